// Linux TAP devices for the leaf's networks: one per joined network, carrying Ethernet frames
// between the host and the ZeroTier network. The device is opened with TUNSETIFF (IFF_TAP,
// IFF_NO_PI: frames without a packet-info header), read when libuv says it is readable, and
// written frame by frame. MAC, MTU, addresses and routes are set by the netif addon (netif.c).
//
//   open(name, onFrame) -> { handle, name }   onFrame(frame: Buffer) per frame read
//   write(handle, frame) -> bytes written, or -errno
//   close(handle)                             idempotent; the device goes away with its fd
//
// Errors from open() carry the errno name as their code (EPERM without CAP_NET_ADMIN, ENOENT
// without /dev/net/tun, EBUSY when the name is taken).

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

// Largest frame read: a ZeroTier MTU of up to 10000 plus the Ethernet header, rounded up.
#define MAX_FRAME_BYTES 10240
// Frames read per readable event before the rest of the event loop gets a turn.
#define MAX_FRAMES_PER_WAKE 64

typedef struct tap_device {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  int handle_closed;
  int finalized;
  napi_ref callback_ref;
  napi_ref resource_ref;
  napi_async_context async_context;
  unsigned char frame[MAX_FRAME_BYTES];
} tap_device;

static napi_value throw_errno(napi_env env, int e, const char *what) {
  const char *code = e == EPERM ? "EPERM" : e == EACCES ? "EACCES" : e == ENOENT ? "ENOENT" : e == EBUSY ? "EBUSY"
    : e == ENODEV ? "ENODEV" : e == EINVAL ? "EINVAL" : "EIO";
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(e));
  napi_throw_error(env, code, message);
  return NULL;
}

static void free_if_done(tap_device *t) {
  if (t->handle_closed && t->finalized) free(t);
}

static void on_handle_closed(uv_handle_t *h) {
  tap_device *t = h->data;
  t->handle_closed = 1;
  free_if_done(t);
}

static void close_device(tap_device *t) {
  if (t->closing) return;
  t->closing = 1;
  uv_poll_stop(&t->poll);
  close(t->fd);
  t->fd = -1;
  napi_delete_reference(t->env, t->callback_ref);
  napi_delete_reference(t->env, t->resource_ref);
  napi_async_destroy(t->env, t->async_context);
  uv_close((uv_handle_t *)&t->poll, on_handle_closed);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  tap_device *t = data;
  // a handle collected while still open: its device goes with it
  if (!t->closing) close_device(t);
  t->finalized = 1;
  free_if_done(t);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  tap_device *t = handle->data;
  if (t->closing || status < 0) return;
  napi_env env = t->env;
  for (int i = 0; i < MAX_FRAMES_PER_WAKE && !t->closing; i++) {
    ssize_t n = read(t->fd, t->frame, sizeof t->frame);
    if (n <= 0) break; // EAGAIN: drained
    napi_handle_scope scope;
    napi_value callback, resource, buffer, result;
    napi_open_handle_scope(env, &scope);
    napi_get_reference_value(env, t->callback_ref, &callback);
    napi_get_reference_value(env, t->resource_ref, &resource);
    napi_create_buffer_copy(env, (size_t)n, t->frame, NULL, &buffer);
    napi_make_callback(env, t->async_context, resource, callback, 1, &buffer, &result);
    napi_close_handle_scope(env, scope);
  }
}

static tap_device *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return data;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_valuetype type;
  char name[IFNAMSIZ] = {0};
  size_t name_length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_length) != napi_ok ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_error(env, "EINVAL", "open(name, onFrame)");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, name_length < IFNAMSIZ - 1 ? name_length : IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "TUNSETIFF");
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "O_NONBLOCK");
  }
  tap_device *t = calloc(1, sizeof *t);
  uv_loop_t *loop = NULL;
  if (t == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &t->poll, fd) != 0) {
    close(fd);
    free(t);
    napi_throw_error(env, "EIO", "cannot watch the device");
    return NULL;
  }
  t->env = env;
  t->fd = fd;
  t->poll.data = t;
  napi_value resource, resource_name, handle, out, device_name;
  napi_create_reference(env, argv[1], 1, &t->callback_ref);
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &t->resource_ref);
  napi_create_string_utf8(env, "ztroot:TapDevice", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, resource, resource_name, &t->async_context);
  napi_create_external(env, t, finalize_handle, NULL, &handle);
  uv_poll_start(&t->poll, UV_READABLE, on_readable);
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "handle", handle);
  napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &device_name);
  napi_set_named_property(env, out, "name", device_name);
  return out;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  tap_device *t = unwrap(env, info, &argc, argv);
  void *data = NULL;
  size_t length = 0;
  int32_t result = -EBADF;
  if (t != NULL && !t->closing && argc >= 2 && napi_get_buffer_info(env, argv[1], &data, &length) == napi_ok) {
    ssize_t n = write(t->fd, data, length);
    result = n < 0 ? -errno : (int32_t)n;
  }
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tap_device *t = unwrap(env, info, &argc, argv);
  if (t != NULL) close_device(t);
  return NULL;
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

NAPI_MODULE_INIT() {
  define(env, exports, "open", js_open);
  define(env, exports, "write", js_write);
  define(env, exports, "close", js_close);
  return exports;
}
