// Configuring the leaf's TAP devices without the `ip` program (a container image has none):
// the link (MAC, MTU, up) with ioctl, addresses and routes with rtnetlink, one request at a time,
// each waiting for the kernel's acknowledgement.
//
//   setLink(name, mac: Buffer(6), mtu)
//   address(add: boolean, name, family: 4|6, ip: Buffer, prefixBits)
//   route(add: boolean, name, family: 4|6, target: Buffer, prefixBits, via: Buffer|null,
//         src: Buffer|null, srcPrefixBits, metric)   metric 0: none
//
// Each throws on failure with the errno name as its code (EPERM without CAP_NET_ADMIN, ENODEV
// for an unknown device, EEXIST, EADDRNOTAVAIL, ENETUNREACH, ESRCH for a route that is not
// there, ...). Routes go in the main table as static, universe-scope routes, replacing one with
// the same key, as 1.14's LinuxNetLink::addRoute makes them.

#include <errno.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQUEST_BYTES 512

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case ESRCH: return "ESRCH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EAGAIN: return "EAGAIN";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, int e, const char *what) {
  char message[200];
  snprintf(message, sizeof message, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_name(e), message);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok || len == 0 || len >= size - 1) return 0;
  return 1;
}

/** A Buffer of exactly `want` bytes (or any length when want is 0); NULL data for null/undefined when allowed. */
static int get_bytes(napi_env env, napi_value v, size_t want, int nullable, unsigned char **data, size_t *len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (nullable && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) return 0;
  void *p;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return 0;
  *data = p;
  return want == 0 || *len == want;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

// --- link ---------------------------------------------------------------------------------

static napi_value js_set_link(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[IFNAMSIZ + 1];
  unsigned char *mac;
  size_t mac_len;
  uint32_t mtu;
  if (argc < 3 || !get_string(env, argv[0], name, sizeof name) || !get_bytes(env, argv[1], 6, 0, &mac, &mac_len) || !get_u32(env, argv[2], &mtu)) {
    return throw_type(env, "setLink(name, mac: Buffer(6), mtu)");
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
  const char *step = "SIOCSIFHWADDR";
  int ok = ioctl(fd, SIOCSIFHWADDR, &ifr) == 0;
  if (ok) {
    ifr.ifr_mtu = (int)mtu;
    step = "SIOCSIFMTU";
    ok = ioctl(fd, SIOCSIFMTU, &ifr) == 0;
  }
  if (ok) {
    step = "SIOCGIFFLAGS";
    ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  }
  if (ok && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    step = "SIOCSIFFLAGS";
    ok = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  }
  int e = errno;
  close(fd);
  return ok ? NULL : throw_errno(env, e, step);
}

// --- rtnetlink ----------------------------------------------------------------------------

typedef struct request {
  struct nlmsghdr header;
  union {
    struct ifaddrmsg address;
    struct rtmsg route;
  } body;
  unsigned char attributes[REQUEST_BYTES];
} request;

static int add_attribute(request *r, unsigned short type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(r->header.nlmsg_len);
  size_t size = RTA_LENGTH(len);
  if (at + RTA_ALIGN(size) > sizeof(request)) return 0;
  struct rtattr *a = (struct rtattr *)((char *)r + at);
  a->rta_type = type;
  a->rta_len = (unsigned short)size;
  memcpy(RTA_DATA(a), data, len);
  r->header.nlmsg_len = (uint32_t)(at + RTA_ALIGN(size));
  return 1;
}

/** Send one request and wait for its acknowledgement: 0, or the errno the kernel answered. */
static int talk(request *r) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  struct timeval timeout = { .tv_sec = 5, .tv_usec = 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  r->header.nlmsg_seq = 1;
  r->header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  int result = 0;
  if (sendto(fd, r, r->header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    result = errno;
  } else {
    char answer[4096];
    for (;;) {
      ssize_t n = recv(fd, answer, sizeof answer, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        result = errno;
        break;
      }
      int done = 0;
      for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != 1) continue;
        if (h->nlmsg_type == NLMSG_ERROR) {
          struct nlmsgerr *err = NLMSG_DATA(h);
          result = err->error < 0 ? -err->error : 0;
          done = 1;
          break;
        }
      }
      if (done) break;
    }
  }
  close(fd);
  return result;
}

static int family_of(uint32_t f, size_t *bytes) {
  if (f == 4) {
    *bytes = 4;
    return AF_INET;
  }
  if (f == 6) {
    *bytes = 16;
    return AF_INET6;
  }
  return 0;
}

static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool add;
  char name[IFNAMSIZ + 1];
  uint32_t fam, prefix;
  unsigned char *ip;
  size_t ip_len, want;
  if (argc < 5 || napi_get_value_bool(env, argv[0], &add) != napi_ok || !get_string(env, argv[1], name, sizeof name)
      || !get_u32(env, argv[2], &fam) || !family_of(fam, &want) || !get_bytes(env, argv[3], want, 0, &ip, &ip_len)
      || !get_u32(env, argv[4], &prefix) || prefix > want * 8) {
    return throw_type(env, "address(add, name, family: 4|6, ip: Buffer(4|16), prefixBits)");
  }
  unsigned index = if_nametoindex(name);
  if (index == 0) return throw_errno(env, errno, name);
  request r;
  memset(&r, 0, sizeof r);
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  r.header.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  r.header.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  r.body.address.ifa_family = (unsigned char)family_of(fam, &want);
  r.body.address.ifa_prefixlen = (unsigned char)prefix;
  r.body.address.ifa_scope = RT_SCOPE_UNIVERSE;
  r.body.address.ifa_index = index;
  add_attribute(&r, IFA_LOCAL, ip, ip_len);
  add_attribute(&r, IFA_ADDRESS, ip, ip_len);
  int e = talk(&r);
  return e ? throw_errno(env, e, add ? "RTM_NEWADDR" : "RTM_DELADDR") : NULL;
}

static napi_value js_route(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool add;
  char name[IFNAMSIZ + 1];
  uint32_t fam, prefix, src_prefix, metric;
  unsigned char *target, *via, *src;
  size_t target_len, via_len, src_len, want;
  if (argc < 9 || napi_get_value_bool(env, argv[0], &add) != napi_ok || !get_string(env, argv[1], name, sizeof name)
      || !get_u32(env, argv[2], &fam) || !family_of(fam, &want) || !get_bytes(env, argv[3], want, 0, &target, &target_len)
      || !get_u32(env, argv[4], &prefix) || prefix > want * 8
      || !get_bytes(env, argv[5], want, 1, &via, &via_len) || !get_bytes(env, argv[6], want, 1, &src, &src_len)
      || !get_u32(env, argv[7], &src_prefix) || src_prefix > want * 8 || !get_u32(env, argv[8], &metric)) {
    return throw_type(env, "route(add, name, family: 4|6, target: Buffer, prefixBits, via: Buffer|null, src: Buffer|null, srcPrefixBits, metric)");
  }
  unsigned index = if_nametoindex(name);
  if (index == 0) return throw_errno(env, errno, name);
  request r;
  memset(&r, 0, sizeof r);
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  r.header.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  r.header.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  r.body.route.rtm_family = (unsigned char)family_of(fam, &want);
  r.body.route.rtm_dst_len = (unsigned char)prefix;
  r.body.route.rtm_table = RT_TABLE_MAIN;
  r.body.route.rtm_protocol = add ? RTPROT_STATIC : 0;
  r.body.route.rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
  r.body.route.rtm_type = add ? RTN_UNICAST : 0;
  uint32_t oif = index;
  add_attribute(&r, RTA_DST, target, target_len);
  add_attribute(&r, RTA_OIF, &oif, sizeof oif);
  if (metric) add_attribute(&r, RTA_PRIORITY, &metric, sizeof metric);
  if (via) add_attribute(&r, RTA_GATEWAY, via, via_len);
  if (src) {
    add_attribute(&r, RTA_SRC, src, src_len);
    r.body.route.rtm_src_len = (unsigned char)src_prefix;
  }
  int e = talk(&r);
  return e ? throw_errno(env, e, add ? "RTM_NEWROUTE" : "RTM_DELROUTE") : NULL;
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

NAPI_MODULE_INIT() {
  define(env, exports, "setLink", js_set_link);
  define(env, exports, "address", js_address);
  define(env, exports, "route", js_route);
  return exports;
}
