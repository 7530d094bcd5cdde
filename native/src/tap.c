// Linux TAP devices for the leaf's networks: one per joined network, carrying Ethernet frames
// between the host and the ZeroTier network. The device is opened with TUNSETIFF (IFF_TAP,
// IFF_NO_PI: frames without a packet-info header) and read when libuv says it is readable.
// MAC, MTU, addresses and routes are set by the netif addon (netif.c).
//
// Reads are batched: up to `slots` frames are read into a ring JavaScript shares (one slot of
// `slotBytes` per frame, lengths beside it), then JavaScript is called once with their count —
// one call and no allocation per wake instead of a Buffer and a call per frame. A frame shorter
// than an Ethernet header, or one that fills its slot (it may have been cut), is counted and
// dropped. Writes take the 14-byte header and the payload apart (writev): no frame is assembled.
//
//   open(name, memory, onFrames) -> { handle, name }
//       memory: { frames: ArrayBuffer (slots * slotBytes), lengths: ArrayBuffer (slots * 4),
//                 counters: ArrayBuffer (COUNTERS * 8, Float64) }, slots and slotBytes given
//       in memory too; onFrames(count) once per batch read
//   write(handle, header, payload) -> bytes written, or -errno (header: the 14 Ethernet bytes)
//   close(handle)                             idempotent; the device goes away with its fd
//
// Errors from open() carry the errno name as their code (EPERM without CAP_NET_ADMIN, ENOENT
// without /dev/net/tun, EBUSY when the name is taken, EINVAL for bad memory).

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include "napi_util.h"

#define ETHERNET_HEADER_BYTES 14
// Slot sizes accepted from JavaScript; a slot must hold any frame the device can carry.
#define MIN_SLOT_BYTES 64
#define MAX_SLOT_BYTES 65536
#define MAX_SLOTS 1024
// Batches read per readable event before the rest of the event loop gets a turn.
#define MAX_BATCHES_PER_WAKE 4

// Counters shared with JavaScript (Float64 each), in this order.
enum { COUNT_FRAMES, COUNT_BATCHES, COUNT_SHORT, COUNT_OVERSIZED, COUNT_READ_ERRORS, COUNTERS };

typedef struct tap_device {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  int handle_closed;
  int finalized;
  napi_ref callback_ref;
  napi_ref resource_ref;
  napi_ref memory_ref; // keeps the shared ArrayBuffers alive while the device is open
  napi_async_context async_context;
  uint8_t *frames;
  uint32_t *lengths;
  double *counters;
  uint32_t slots;
  uint32_t slot_bytes;
} tap_device;

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
  napi_delete_reference(t->env, t->memory_ref);
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

/** Read frames into the ring until it is full or the device is drained; returns how many. */
static uint32_t read_batch(tap_device *t, int *drained) {
  uint32_t count = 0;
  *drained = 0;
  while (count < t->slots) {
    uint8_t *slot = t->frames + (size_t)count * t->slot_bytes;
    ssize_t n = read(t->fd, slot, t->slot_bytes);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) { *drained = 1; break; }
      if (errno == EINTR) continue;
      t->counters[COUNT_READ_ERRORS]++;
      break;
    }
    if (n < ETHERNET_HEADER_BYTES) { t->counters[COUNT_SHORT]++; continue; }
    if ((size_t)n >= t->slot_bytes) { t->counters[COUNT_OVERSIZED]++; continue; } // may have been cut
    t->lengths[count++] = (uint32_t)n;
  }
  return count;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  tap_device *t = handle->data;
  if (t->closing || status < 0) return;
  napi_env env = t->env;
  for (int round = 0; round < MAX_BATCHES_PER_WAKE && !t->closing; round++) {
    int drained;
    uint32_t count = read_batch(t, &drained);
    if (count > 0) {
      t->counters[COUNT_FRAMES] += count;
      t->counters[COUNT_BATCHES]++;
      napi_handle_scope scope;
      napi_value callback, resource, argument, result;
      napi_open_handle_scope(env, &scope);
      napi_get_reference_value(env, t->callback_ref, &callback);
      napi_get_reference_value(env, t->resource_ref, &resource);
      napi_create_uint32(env, count, &argument);
      if (napi_make_callback(env, t->async_context, resource, callback, 1, &argument, &result) != napi_ok) {
        // a throwing callback must not take the process down with an uncaught exception here
        napi_value ignored;
        bool pending = false;
        if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
      }
      napi_close_handle_scope(env, scope);
    }
    if (drained) break;
  }
}

static int get_arraybuffer(napi_env env, napi_value object, const char *name, size_t need, void **out) {
  napi_value v;
  bool is_ab = false;
  size_t length = 0;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return 0;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab) return 0;
  if (napi_get_arraybuffer_info(env, v, out, &length) != napi_ok || length < need || *out == NULL) return 0;
  return 1;
}

static int get_u32(napi_env env, napi_value object, const char *name, uint32_t *out) {
  napi_value v;
  return napi_get_named_property(env, object, name, &v) == napi_ok && napi_get_value_uint32(env, v, out) == napi_ok;
}

static tap_device *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return data;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_valuetype type;
  char name[IFNAMSIZ] = {0};
  size_t name_length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_length) != napi_ok ||
      napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
    napi_throw_error(env, "EINVAL", "open(name, memory, onFrames)");
    return NULL;
  }
  uint32_t slots = 0, slot_bytes = 0;
  void *frames = NULL, *lengths = NULL, *counters = NULL;
  if (!get_u32(env, argv[1], "slots", &slots) || slots < 1 || slots > MAX_SLOTS ||
      !get_u32(env, argv[1], "slotBytes", &slot_bytes) || slot_bytes < MIN_SLOT_BYTES || slot_bytes > MAX_SLOT_BYTES ||
      !get_arraybuffer(env, argv[1], "frames", (size_t)slots * slot_bytes, &frames) ||
      !get_arraybuffer(env, argv[1], "lengths", (size_t)slots * 4, &lengths) ||
      !get_arraybuffer(env, argv[1], "counters", COUNTERS * sizeof(double), &counters)) {
    napi_throw_error(env, "EINVAL", "memory: { slots, slotBytes, frames, lengths, counters } missing, out of range or too small");
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
  t->frames = frames;
  t->lengths = lengths;
  t->counters = counters;
  t->slots = slots;
  t->slot_bytes = slot_bytes;
  napi_value resource, resource_name, handle, out, device_name;
  napi_create_reference(env, argv[2], 1, &t->callback_ref);
  napi_create_reference(env, argv[1], 1, &t->memory_ref);
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

/** A Uint8Array's bytes (or a Buffer's, which is one). */
static int get_bytes(napi_env env, napi_value v, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  return napi_get_typedarray_info(env, v, &type, length, data, &ab, &offset) == napi_ok && type == napi_uint8_array;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  tap_device *t = unwrap(env, info, &argc, argv);
  struct iovec iov[2];
  int32_t result = -EBADF;
  if (t != NULL && !t->closing) {
    result = -EINVAL;
    if (argc >= 3 && get_bytes(env, argv[1], &iov[0].iov_base, &iov[0].iov_len) && iov[0].iov_len == ETHERNET_HEADER_BYTES &&
        get_bytes(env, argv[2], &iov[1].iov_base, &iov[1].iov_len)) {
      if (iov[0].iov_len + iov[1].iov_len > t->slot_bytes) result = -EMSGSIZE; // larger than any frame the device carries
      else {
        ssize_t n = writev(t->fd, iov, 2);
        result = n < 0 ? -errno : (int32_t)n;
      }
    }
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

NAPI_MODULE_INIT() {
  define_uint32(env, exports, "counters", COUNTERS);
  define(env, exports, "open", js_open);
  define(env, exports, "write", js_write);
  define(env, exports, "close", js_close);
  return exports;
}
