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

#include "napi_util.h"

#define REQUEST_BYTES 512

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

/** What address() and route() both begin with: add or delete, the device, and an address of a family with its prefix length. */
typedef struct target_args {
  bool add;
  char name[IFNAMSIZ + 1];
  unsigned index;
  int family;
  size_t bytes;
  unsigned char *ip;
  size_t ip_len;
  uint32_t prefix;
  /** Why the device was not found (kept: later N-API calls may change errno). */
  int lookup_errno;
} target_args;

/** 1: parsed and the device found; 0: bad arguments; -1: no such device (lookup_errno says why). */
static int get_target_args(napi_env env, napi_value *argv, target_args *t) {
  uint32_t fam;
  if (napi_get_value_bool(env, argv[0], &t->add) != napi_ok || !get_string(env, argv[1], t->name, sizeof t->name)
      || !get_u32(env, argv[2], &fam) || !(t->family = family_of(fam, &t->bytes))
      || !get_bytes(env, argv[3], t->bytes, 0, &t->ip, &t->ip_len) || !get_u32(env, argv[4], &t->prefix) || t->prefix > t->bytes * 8) {
    return 0;
  }
  t->index = if_nametoindex(t->name);
  t->lookup_errno = errno;
  return t->index == 0 ? -1 : 1;
}

/** A request of `type` with a body of `body` bytes; an add creates or replaces. */
static void request_init(request *r, size_t body, unsigned short type, bool add) {
  memset(r, 0, sizeof *r);
  r->header.nlmsg_len = NLMSG_LENGTH(body);
  r->header.nlmsg_type = type;
  r->header.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
}

static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  target_args t;
  int got = argc < 5 ? 0 : get_target_args(env, argv, &t);
  if (got == 0) return throw_type(env, "address(add, name, family: 4|6, ip: Buffer(4|16), prefixBits)");
  if (got < 0) return throw_errno(env, t.lookup_errno, t.name);
  request r;
  request_init(&r, sizeof(struct ifaddrmsg), t.add ? RTM_NEWADDR : RTM_DELADDR, t.add);
  r.body.address.ifa_family = (unsigned char)t.family;
  r.body.address.ifa_prefixlen = (unsigned char)t.prefix;
  r.body.address.ifa_scope = RT_SCOPE_UNIVERSE;
  r.body.address.ifa_index = t.index;
  add_attribute(&r, IFA_LOCAL, t.ip, t.ip_len);
  add_attribute(&r, IFA_ADDRESS, t.ip, t.ip_len);
  int e = talk(&r);
  return e ? throw_errno(env, e, t.add ? "RTM_NEWADDR" : "RTM_DELADDR") : NULL;
}

static napi_value js_route(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  target_args t;
  uint32_t src_prefix, metric;
  unsigned char *via, *src;
  size_t via_len, src_len;
  int got = argc < 9 ? 0 : get_target_args(env, argv, &t);
  if (got != 0 && (!get_bytes(env, argv[5], t.bytes, 1, &via, &via_len) || !get_bytes(env, argv[6], t.bytes, 1, &src, &src_len)
      || !get_u32(env, argv[7], &src_prefix) || src_prefix > t.bytes * 8 || !get_u32(env, argv[8], &metric))) {
    got = 0;
  }
  if (got == 0) return throw_type(env, "route(add, name, family: 4|6, target: Buffer, prefixBits, via: Buffer|null, src: Buffer|null, srcPrefixBits, metric)");
  if (got < 0) return throw_errno(env, t.lookup_errno, t.name);
  request r;
  request_init(&r, sizeof(struct rtmsg), t.add ? RTM_NEWROUTE : RTM_DELROUTE, t.add);
  r.body.route.rtm_family = (unsigned char)t.family;
  r.body.route.rtm_dst_len = (unsigned char)t.prefix;
  r.body.route.rtm_table = RT_TABLE_MAIN;
  r.body.route.rtm_protocol = t.add ? RTPROT_STATIC : 0;
  r.body.route.rtm_scope = t.add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
  r.body.route.rtm_type = t.add ? RTN_UNICAST : 0;
  uint32_t oif = t.index;
  add_attribute(&r, RTA_DST, t.ip, t.ip_len);
  add_attribute(&r, RTA_OIF, &oif, sizeof oif);
  if (metric) add_attribute(&r, RTA_PRIORITY, &metric, sizeof metric);
  if (via) add_attribute(&r, RTA_GATEWAY, via, via_len);
  if (src) {
    add_attribute(&r, RTA_SRC, src, src_len);
    r.body.route.rtm_src_len = (unsigned char)src_prefix;
  }
  int e = talk(&r);
  return e ? throw_errno(env, e, t.add ? "RTM_NEWROUTE" : "RTM_DELROUTE") : NULL;
}

NAPI_MODULE_INIT() {
  define(env, exports, "setLink", js_set_link);
  define(env, exports, "address", js_address);
  define(env, exports, "route", js_route);
  return exports;
}
