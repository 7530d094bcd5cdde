// Batch UDP for Node on Linux: one nonblocking socket per handle, read with recvmmsg and written
// with sendmmsg, so a burst of datagrams costs one system call each way instead of one per
// datagram. Only N-API (node_api.h) and libuv are used, so one build loads in every Node release
// that has N-API version 8.
//
// Memory is owned by JavaScript: the caller passes five ArrayBuffers and both sides read and
// write them in place, so nothing is allocated per datagram across the boundary.
//   recvData  slots x slotBytes   datagram i at i * slotBytes
//   recvMeta  slots x 32 bytes    per datagram: length, source port, family, flags, source IP
//   sendData  slots x slotBytes   datagram i to send at i * slotBytes
//   sendMeta  slots x 32 bytes    per datagram: length, destination port, family, destination IP
//   state     control words (queued send count, bound port) then counters (doubles)
// The layout constants below are mirrored in src/node/batch-udp.ts.
//
// When the socket becomes readable the loop drains it in batches and calls the JavaScript
// callback once per batch with the number of datagrams; whatever the callback queued for sending
// on this socket goes out in one sendmmsg right after it returns. Errors are counted in the
// state counters, never thrown from the event loop.
//
// Receive coalescing (like a network card's interrupt moderation, or NAPI polling): every
// wakeup costs a fixed price (epoll, a thread switch, entering JavaScript, one recvmmsg and one
// sendmmsg) whether it carries one datagram or sixty. While wakeups come more often than one per
// `coalesceMicros` on average (an open option; 0 turns coalescing off), the socket stops waking
// the loop and is drained by a timer every tick instead (libuv's timer resolution, 1-2 ms), so
// each wakeup carries the datagrams of a whole tick. A tick that finds fewer than
// COALESCE_LEAVE_BELOW datagrams goes back to waking on readability. At light load nothing
// waits; under load a datagram waits at most one tick.
//
// The known-peer HELLO fast path (hello_fast.h), when a table is attached to a socket
// (helloAttach), answers known peers' HELLOs in a batch before JavaScript sees it: those slots are
// flagged FLAG_HANDLED, their OK(HELLO)s queued on the send ring, and what JavaScript must book is
// left in the socket's record buffer (CONTROL_HELLO_RECORDS records). A batch that leaves
// JavaScript nothing to do does not enter it.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "batch_ring.h"
#include "hello_fast.h"
#include "hello_napi.h"
#include "napi_util.h"


// state: int32 control words, then double counters at STATE_COUNTERS_OFFSET bytes.
#define CONTROL_SEND_COUNT 0
#define CONTROL_BOUND_PORT 1
#define CONTROL_COALESCING 2 // 1 while the socket is drained by the tick timer (read by tests)
#define CONTROL_HELLO_RECORDS 3 // booking records the HELLO fast path left for this batch
#define CONTROL_WORDS 8
#define STATE_COUNTERS_OFFSET (CONTROL_WORDS * 4)
enum {
  COUNT_RECEIVED,       // datagrams read from the kernel
  COUNT_BATCHES,        // JavaScript callbacks made
  COUNT_TRUNCATED,      // datagrams larger than a slot (flagged, not delivered)
  COUNT_RECV_ERRORS,    // recvmmsg failures other than "nothing to read"
  COUNT_SENT,           // datagrams the kernel accepted
  COUNT_SEND_DROPPED,   // dropped because the send buffer was full (EAGAIN / ENOBUFS)
  COUNT_SEND_ERRORS,    // refused (bad destination, unreachable, invalid record...)
  COUNT_FLUSHES,        // sendmmsg rounds started
  COUNT_CALLBACK_ERRORS, // exceptions that escaped the JavaScript callback
  COUNT_WAKEUPS,        // readable events handled (the socket woke the loop)
  COUNT_TICKS,          // coalescing timer ticks that drained the socket
  COUNTERS
};
#define STATE_BYTES (STATE_COUNTERS_OFFSET + COUNTERS * 8)

// Limits on what the caller may ask for.
#define MAX_SLOTS 1024
#define MIN_SLOT_BYTES 64
#define MAX_SLOT_BYTES 65536
// Batches read per readable event before yielding to the rest of the event loop.
#define MAX_BATCHES_PER_WAKE 8
// Coalescing: entered while the moving average of the gap between wakeups (weight 1/8) is below
// the socket's threshold. A gap over COALESCE_RESET_FACTOR thresholds starts the average again
// at twice the threshold, so after a quiet spell it takes about six wakeups in quick succession
// to enter. Left when a tick finds fewer than COALESCE_LEAVE_BELOW datagrams.
#define COALESCE_RESET_FACTOR 4
#define COALESCE_LEAVE_BELOW 2
#define COALESCE_TICK_MS 1
#define MAX_COALESCE_MICROS 10000000

typedef struct batch_socket {
  napi_env env;
  uv_poll_t poll;
  uv_timer_t tick;
  uint64_t coalesce_ns;  // coalescing threshold on the average gap between wakeups (0: never)
  uint64_t last_wake_ns; // uv_hrtime of the previous readable event
  uint64_t avg_gap_ns;   // moving average of the gap between readable events
  int fd;
  int family; // 4 or 6
  uint32_t slots;
  uint32_t slot_bytes;
  uint8_t *recv_data, *recv_meta, *send_data, *send_meta;
  int32_t *control;
  double *counters;
  napi_ref memory_ref;   // the object holding the five ArrayBuffers: keeps them alive
  napi_ref callback_ref; // the batch callback
  napi_ref resource_ref; // async resource for napi_make_callback
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup_hook;   // registered while open
  napi_async_cleanup_hook_handle teardown_handle; // set when the environment is tearing down
  int closing;
  int handles_open;  // libuv handles (poll, tick) whose uv_close has not finished
  int finalized;     // the JavaScript handle was collected
  struct mmsghdr *recv_msgs;
  struct iovec *recv_iov;
  struct sockaddr_storage *recv_addr;
  struct mmsghdr *send_msgs;
  struct iovec *send_iov;
  struct sockaddr_storage *send_addr;
  hello_table *hello;      // the HELLO fast path's table, or NULL
  napi_ref hello_ref;      // keeps the table and the record buffer alive while attached
  uint8_t *hello_records;  // slots x HELLO_RECORD_BYTES
  uint16_t hello_socket;   // this socket's index in the transport, for the records
} batch_socket;

// ------------------------------------------------------------------------------------------------
// Small N-API helpers
// ------------------------------------------------------------------------------------------------

static int get_int(napi_env env, napi_value object, const char *name, int32_t *out) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value object, const char *name, int *out) {
  napi_value v;
  napi_valuetype t;
  bool b = false;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined) { *out = 0; return 1; }
  if (t != napi_boolean || napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

static int get_string(napi_env env, napi_value object, const char *name, char *out, size_t size) {
  napi_value v;
  napi_valuetype t;
  size_t len = 0;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return 0;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok) return 0;
  return len + 1 < size; // reject text that was cut short
}

static int get_buffer(napi_env env, napi_value object, const char *name, size_t need, uint8_t **out) {
  napi_value v;
  bool is_ab = false;
  void *data = NULL;
  size_t len = 0;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return 0;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab) return 0;
  if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok || len < need || data == NULL) return 0;
  *out = data;
  return 1;
}

static batch_socket *unwrap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype t;
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok) return NULL;
  return p;
}

// ------------------------------------------------------------------------------------------------
// Lifetime: the struct is freed once both libuv handles have closed AND the JavaScript handle
// was collected, whichever comes last.
// ------------------------------------------------------------------------------------------------

static void free_socket(batch_socket *s) {
  free(s->recv_msgs);
  free(s->recv_iov);
  free(s->recv_addr);
  free(s->send_msgs);
  free(s->send_iov);
  free(s->send_addr);
  free(s);
}

static void on_handle_closed(uv_handle_t *handle) {
  batch_socket *s = handle->data;
  if (--s->handles_open > 0) return;
  if (s->teardown_handle != NULL) napi_remove_async_cleanup_hook(s->teardown_handle);
  if (s->finalized) free_socket(s);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  batch_socket *s = data;
  s->finalized = 1;
  if (s->handles_open == 0) free_socket(s);
}

/** Stop polling, close the descriptor now (so the port is free at once) and release JS refs. */
static void close_socket(batch_socket *s) {
  if (s->closing) return;
  s->closing = 1;
  if (s->cleanup_hook != NULL) { // closed before teardown: the hook has nothing left to do
    napi_remove_async_cleanup_hook(s->cleanup_hook);
    s->cleanup_hook = NULL;
  }
  s->control[CONTROL_SEND_COUNT] = 0;
  uv_poll_stop(&s->poll);
  uv_timer_stop(&s->tick);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(s->env, s->callback_ref);
  napi_delete_reference(s->env, s->memory_ref);
  napi_delete_reference(s->env, s->resource_ref);
  if (s->hello_ref != NULL) napi_delete_reference(s->env, s->hello_ref);
  s->hello = NULL;
  s->hello_records = NULL;
  napi_async_destroy(s->env, s->async_context);
  // the buffers may be collected from here on: forget them
  s->recv_data = s->recv_meta = s->send_data = s->send_meta = NULL;
  s->control = NULL;
  s->counters = NULL;
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  uv_close((uv_handle_t *)&s->tick, on_handle_closed);
}

static void on_environment_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  batch_socket *s = arg;
  s->teardown_handle = handle;
  s->cleanup_hook = NULL; // removed by on_handle_closed through teardown_handle
  close_socket(s);
}

// ------------------------------------------------------------------------------------------------
// Sending
// ------------------------------------------------------------------------------------------------

/** Fill `addr` from a metadata record; returns its length, or 0 if the record is unusable. */
static socklen_t destination_from_meta(const batch_socket *s, const uint8_t *meta, struct sockaddr_storage *addr) {
  uint16_t port;
  memcpy(&port, meta + META_PORT, 2);
  if (meta[META_FAMILY] != s->family) return 0;
  memset(addr, 0, sizeof(*addr));
  if (s->family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)addr;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    memcpy(&a->sin_addr, meta + META_IP, 4);
    return sizeof(*a);
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  memcpy(&a->sin6_addr, meta + META_IP, 16);
  return sizeof(*a);
}

/** Send every queued datagram with as few sendmmsg calls as the kernel allows; returns how many went. */
static uint32_t flush_queue(batch_socket *s) {
  if (s->closing) return 0;
  int32_t queued = s->control[CONTROL_SEND_COUNT];
  s->control[CONTROL_SEND_COUNT] = 0;
  if (queued <= 0) return 0;
  if ((uint32_t)queued > s->slots) queued = (int32_t)s->slots;
  double *counters = s->counters;

  uint32_t ready = 0;
  for (uint32_t i = 0; i < (uint32_t)queued; i++) {
    const uint8_t *meta = s->send_meta + (size_t)i * META_BYTES;
    uint32_t length;
    memcpy(&length, meta + META_LENGTH, 4);
    socklen_t addr_len = destination_from_meta(s, meta, &s->send_addr[ready]);
    if (length > s->slot_bytes || addr_len == 0) {
      counters[COUNT_SEND_ERRORS]++;
      continue;
    }
    s->send_iov[ready].iov_base = s->send_data + (size_t)i * s->slot_bytes;
    s->send_iov[ready].iov_len = length;
    struct msghdr *h = &s->send_msgs[ready].msg_hdr;
    h->msg_name = &s->send_addr[ready];
    h->msg_namelen = addr_len;
    h->msg_iov = &s->send_iov[ready];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    ready++;
  }

  uint32_t done = 0, sent = 0;
  counters[COUNT_FLUSHES]++;
  while (done < ready) {
    int r = sendmmsg(s->fd, s->send_msgs + done, ready - done, MSG_DONTWAIT);
    if (r > 0) {
      done += (uint32_t)r;
      sent += (uint32_t)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      counters[COUNT_SEND_DROPPED] += ready - done; // the socket buffer is full: drop the rest
      break;
    }
    counters[COUNT_SEND_ERRORS]++; // this one datagram was refused; go on with the next
    done++;
  }
  counters[COUNT_SENT] += sent;
  return sent;
}

// ------------------------------------------------------------------------------------------------
// Receiving
// ------------------------------------------------------------------------------------------------

/** One recvmmsg into the receive ring; metadata filled in. Returns the count (0: nothing or error). */
static uint32_t receive_batch(batch_socket *s) {
  for (uint32_t i = 0; i < s->slots; i++) {
    struct msghdr *h = &s->recv_msgs[i].msg_hdr;
    h->msg_namelen = sizeof(struct sockaddr_storage);
    h->msg_flags = 0;
    s->recv_msgs[i].msg_len = 0;
  }
  int n;
  do n = recvmmsg(s->fd, s->recv_msgs, s->slots, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) s->counters[COUNT_RECV_ERRORS]++;
    return 0;
  }
  for (int i = 0; i < n; i++) {
    uint8_t *meta = s->recv_meta + (size_t)i * META_BYTES;
    const struct msghdr *h = &s->recv_msgs[i].msg_hdr;
    uint32_t length = s->recv_msgs[i].msg_len;
    uint8_t flags = 0;
    if (h->msg_flags & MSG_TRUNC) {
      flags |= FLAG_TRUNCATED;
      s->counters[COUNT_TRUNCATED]++;
    }
    memset(meta, 0, META_BYTES);
    memcpy(meta + META_LENGTH, &length, 4);
    meta[META_FLAGS] = flags;
    const struct sockaddr_storage *from = &s->recv_addr[i];
    if (from->ss_family == AF_INET) {
      const struct sockaddr_in *a = (const struct sockaddr_in *)from;
      uint16_t port = ntohs(a->sin_port);
      memcpy(meta + META_PORT, &port, 2);
      meta[META_FAMILY] = 4;
      memcpy(meta + META_IP, &a->sin_addr, 4);
    } else if (from->ss_family == AF_INET6) {
      const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
      uint16_t port = ntohs(a->sin6_port);
      memcpy(meta + META_PORT, &port, 2);
      meta[META_FAMILY] = 6;
      memcpy(meta + META_IP, &a->sin6_addr, 16);
    }
  }
  s->counters[COUNT_RECEIVED] += n;
  return (uint32_t)n;
}

/**
 * Run the HELLO fast path over a batch: answered (or rate-limited) HELLOs are flagged handled,
 * their replies queued on the send ring, their booking records counted in CONTROL_HELLO_RECORDS.
 * Returns how many datagrams are left for JavaScript.
 */
static uint32_t hello_fast_batch(batch_socket *s, uint32_t count) {
  int64_t now = hello_now_ms();
  uint32_t left = 0, records = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint8_t *meta = s->recv_meta + (size_t)i * META_BYTES;
    if ((meta[META_FLAGS] & FLAG_TRUNCATED) != 0) continue;
    uint32_t length;
    memcpy(&length, meta + META_LENGTH, 4);
    hello_source from = {.family = meta[META_FAMILY], .ip = meta + META_IP, .socket = s->hello_socket};
    memcpy(&from.port, meta + META_PORT, 2);
    int32_t n = s->control[CONTROL_SEND_COUNT];
    if (n < 0 || (uint32_t)n >= s->slots) {
      flush_queue(s);
      n = 0;
    }
    size_t reply_len = 0;
    bool booked = false;
    hello_outcome outcome = from.family != s->family ? HELLO_FALLBACK
      : hello_answer(s->hello, s->recv_data + (size_t)i * s->slot_bytes, length, &from, now, NULL, s->send_data + (size_t)n * s->slot_bytes, &reply_len,
                     s->hello_records + (size_t)records * HELLO_RECORD_BYTES, &booked);
    if (outcome == HELLO_FALLBACK) {
      left++;
      continue;
    }
    meta[META_FLAGS] |= FLAG_HANDLED;
    if (booked) records++;
    if (reply_len > 0) {
      uint8_t *out = s->send_meta + (size_t)n * META_BYTES;
      uint32_t len32 = (uint32_t)reply_len;
      memcpy(out + META_LENGTH, &len32, 4);
      memcpy(out + META_PORT, &from.port, 2);
      out[META_FAMILY] = from.family;
      memcpy(out + META_IP, from.ip, from.family == 4 ? 4 : 16);
      s->control[CONTROL_SEND_COUNT] = n + 1;
    }
  }
  s->hello->counters[HELLO_COUNT_LEFT] += left;
  s->control[CONTROL_HELLO_RECORDS] = (int32_t)records;
  return left;
}

/** Hand a batch to JavaScript (unless the HELLO fast path left it nothing), then send what it queued. */
static void deliver(batch_socket *s, uint32_t count) {
  if (s->hello != NULL && hello_fast_batch(s, count) == 0 && s->control[CONTROL_HELLO_RECORDS] == 0) {
    flush_queue(s);
    return;
  }
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, resource, argv[1], result;
  if (napi_get_reference_value(env, s->callback_ref, &callback) == napi_ok &&
      napi_get_reference_value(env, s->resource_ref, &resource) == napi_ok &&
      napi_create_uint32(env, count, &argv[0]) == napi_ok) {
    s->counters[COUNT_BATCHES]++;
    napi_status status = napi_make_callback(env, s->async_context, resource, callback, 1, argv, &result);
    if (status != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
      }
      if (!s->closing) s->counters[COUNT_CALLBACK_ERRORS]++;
    }
  }
  napi_close_handle_scope(env, scope);
  if (!s->closing) flush_queue(s); // the callback may have closed the socket
}

/**
 * Read and deliver up to MAX_BATCHES_PER_WAKE batches; returns how many datagrams (-1: cut short,
 * more may be waiting). A batch short of full means the socket was empty when it was read; with
 * `until_empty` it is read again anyway, for what arrived while the batch was handled.
 */
static int drain(batch_socket *s, int until_empty) {
  int total = 0;
  for (int round = 0; round < MAX_BATCHES_PER_WAKE && !s->closing; round++) {
    uint32_t n = receive_batch(s);
    if (n == 0) return total;
    deliver(s, n);
    total += (int)n;
    if (n < s->slots && !until_empty) return total;
  }
  return s->closing ? total : -1;
}

static void on_readable(uv_poll_t *handle, int status, int events);
static void on_tick(uv_timer_t *timer);

/** Stop waking on readability; the tick timer drains the socket from now on. */
static void start_coalescing(batch_socket *s) {
  uv_poll_stop(&s->poll);
  s->control[CONTROL_COALESCING] = 1;
  uv_timer_start(&s->tick, on_tick, COALESCE_TICK_MS, 0);
}

static void stop_coalescing(batch_socket *s) {
  s->control[CONTROL_COALESCING] = 0;
  s->last_wake_ns = 0; // the next wakeup starts the average again
  int r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (r != 0) s->counters[COUNT_RECV_ERRORS]++;
}

static void on_tick(uv_timer_t *timer) {
  batch_socket *s = timer->data;
  if (s->closing) return;
  s->counters[COUNT_TICKS]++;
  int got = drain(s, 1);
  if (s->closing) return;
  if (got < 0) uv_timer_start(&s->tick, on_tick, 0, 0); // a full drain: come back on the next loop turn
  else if (got >= COALESCE_LEAVE_BELOW) uv_timer_start(&s->tick, on_tick, COALESCE_TICK_MS, 0);
  else stop_coalescing(s); // quiet again: anything from now on wakes the loop at once
}

/** Whether wakeups have come often enough lately that ticks would carry more per wakeup. */
static int wakeups_are_frequent(batch_socket *s) {
  uint64_t now = uv_hrtime();
  uint64_t gap = s->last_wake_ns == 0 ? UINT64_MAX : now - s->last_wake_ns;
  s->last_wake_ns = now;
  if (gap > COALESCE_RESET_FACTOR * s->coalesce_ns) {
    s->avg_gap_ns = 2 * s->coalesce_ns;
    return 0;
  }
  s->avg_gap_ns = (7 * s->avg_gap_ns + gap) / 8;
  return s->avg_gap_ns < s->coalesce_ns;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  batch_socket *s = handle->data;
  if (s->closing) return;
  if (status < 0) {
    s->counters[COUNT_RECV_ERRORS]++;
    return;
  }
  s->counters[COUNT_WAKEUPS]++;
  drain(s, 0); // a partial batch: the socket was empty; level-triggered polling wakes again if not
  if (!s->closing && s->coalesce_ns > 0 && wakeups_are_frequent(s)) start_coalescing(s);
}

// ------------------------------------------------------------------------------------------------
// JavaScript entry points
// ------------------------------------------------------------------------------------------------

/**
 * open(options, memory, onBatch) -> handle
 *   options: { family: 4|6, address: string, port: number, reusePort?: boolean, coalesceMicros: number,
 *              bufferBytes: number, slots: number, slotBytes: number }
 *   memory:  { recvData, recvMeta, sendData, sendMeta, state } (ArrayBuffers, sizes as above)
 *   onBatch: (count) => void
 * Throws an Error whose code is the errno name when the socket cannot be made or bound.
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_error(env, "EINVAL", "open(options, memory, onBatch)");
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) return throw_error(env, "EINVAL", "onBatch must be a function");

  int32_t family = 0, port = 0, buffer_bytes = 0, slots = 0, slot_bytes = 0, coalesce_micros = 0;
  int reuse_port = 0;
  char address[INET6_ADDRSTRLEN + 1];
  if (!get_int(env, argv[0], "family", &family) || (family != 4 && family != 6)) return throw_error(env, "EINVAL", "family must be 4 or 6");
  if (!get_string(env, argv[0], "address", address, sizeof(address))) return throw_error(env, "EINVAL", "address must be an IP address");
  if (!get_int(env, argv[0], "port", &port) || port < 0 || port > 65535) return throw_error(env, "EINVAL", "port must be 0..65535");
  if (!get_bool(env, argv[0], "reusePort", &reuse_port)) return throw_error(env, "EINVAL", "reusePort must be a boolean");
  if (!get_int(env, argv[0], "coalesceMicros", &coalesce_micros) || coalesce_micros < 0 || coalesce_micros > MAX_COALESCE_MICROS) {
    return throw_error(env, "EINVAL", "coalesceMicros out of range");
  }
  if (!get_int(env, argv[0], "bufferBytes", &buffer_bytes) || buffer_bytes < 0) return throw_error(env, "EINVAL", "bufferBytes must be >= 0");
  if (!get_int(env, argv[0], "slots", &slots) || slots < 1 || slots > MAX_SLOTS) return throw_error(env, "EINVAL", "slots out of range");
  if (!get_int(env, argv[0], "slotBytes", &slot_bytes) || slot_bytes < MIN_SLOT_BYTES || slot_bytes > MAX_SLOT_BYTES) return throw_error(env, "EINVAL", "slotBytes out of range");

  uint8_t *recv_data, *recv_meta, *send_data, *send_meta, *state;
  size_t data_bytes = (size_t)slots * (size_t)slot_bytes, meta_bytes = (size_t)slots * META_BYTES;
  if (!get_buffer(env, argv[1], "recvData", data_bytes, &recv_data) || !get_buffer(env, argv[1], "recvMeta", meta_bytes, &recv_meta) ||
      !get_buffer(env, argv[1], "sendData", data_bytes, &send_data) || !get_buffer(env, argv[1], "sendMeta", meta_bytes, &send_meta) ||
      !get_buffer(env, argv[1], "state", STATE_BYTES, &state)) {
    return throw_error(env, "EINVAL", "memory buffers missing or too small");
  }

  struct sockaddr_storage local;
  socklen_t local_len;
  memset(&local, 0, sizeof(local));
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&local;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &a->sin_addr) != 1) return throw_error(env, "EINVAL", "not an IPv4 address");
    local_len = sizeof(*a);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&local;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &a->sin6_addr) != 1) return throw_error(env, "EINVAL", "not an IPv6 address");
    local_len = sizeof(*a);
  }

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_error(env, errno_name(errno), strerror(errno));
  int one = 1;
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int e = errno;
    close(fd);
    return throw_error(env, errno_name(e), strerror(e));
  }
  if (buffer_bytes > 0) { // the kernel caps these; a refusal keeps the default
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes));
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) != 0) {
    int e = errno;
    close(fd);
    return throw_error(env, errno_name(e), strerror(e));
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, (struct sockaddr *)&bound, &bound_len);
  int bound_port = bound.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&bound)->sin_port) : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);

  batch_socket *s = calloc(1, sizeof(batch_socket));
  if (s != NULL) {
    s->recv_msgs = calloc((size_t)slots, sizeof(struct mmsghdr));
    s->recv_iov = calloc((size_t)slots, sizeof(struct iovec));
    s->recv_addr = calloc((size_t)slots, sizeof(struct sockaddr_storage));
    s->send_msgs = calloc((size_t)slots, sizeof(struct mmsghdr));
    s->send_iov = calloc((size_t)slots, sizeof(struct iovec));
    s->send_addr = calloc((size_t)slots, sizeof(struct sockaddr_storage));
  }
  if (s == NULL || !s->recv_msgs || !s->recv_iov || !s->recv_addr || !s->send_msgs || !s->send_iov || !s->send_addr) {
    close(fd);
    if (s != NULL) free_socket(s);
    return throw_error(env, "ENOMEM", "out of memory");
  }
  s->env = env;
  s->fd = fd;
  s->coalesce_ns = (uint64_t)coalesce_micros * 1000;
  s->family = family;
  s->slots = (uint32_t)slots;
  s->slot_bytes = (uint32_t)slot_bytes;
  s->recv_data = recv_data;
  s->recv_meta = recv_meta;
  s->send_data = send_data;
  s->send_meta = send_meta;
  s->control = (int32_t *)state;
  s->counters = (double *)(state + STATE_COUNTERS_OFFSET);
  s->control[CONTROL_SEND_COUNT] = 0;
  s->control[CONTROL_BOUND_PORT] = bound_port;
  for (int32_t i = 0; i < slots; i++) {
    s->recv_iov[i].iov_base = recv_data + (size_t)i * (size_t)slot_bytes;
    s->recv_iov[i].iov_len = (size_t)slot_bytes;
    s->recv_msgs[i].msg_hdr.msg_name = &s->recv_addr[i];
    s->recv_msgs[i].msg_hdr.msg_iov = &s->recv_iov[i];
    s->recv_msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uv_loop_t *loop = NULL;
  napi_value resource, name, handle;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL ||
      uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    close(fd);
    free_socket(s);
    return throw_error(env, "EIO", "cannot watch the socket");
  }
  uv_timer_init(loop, &s->tick); // cannot fail
  s->handles_open = 2;
  s->poll.data = s;
  s->tick.data = s;
  napi_create_reference(env, argv[1], 1, &s->memory_ref);
  napi_create_reference(env, argv[2], 1, &s->callback_ref);
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource_ref);
  napi_create_string_utf8(env, "ztroot:BatchUdpSocket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->async_context);
  napi_add_async_cleanup_hook(env, on_environment_teardown, s, &s->cleanup_hook);
  if (napi_create_external(env, s, finalize_handle, NULL, &handle) != napi_ok) {
    s->finalized = 1; // nothing in JavaScript refers to it: free once closed
    close_socket(s);
    return throw_error(env, "EIO", "cannot create the handle");
  }
  int r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (r != 0) {
    close_socket(s);
    return throw_error(env, uv_err_name(r), uv_strerror(r));
  }
  return handle;
}

/** flush(handle) -> datagrams the kernel accepted. */
static napi_value js_flush(napi_env env, napi_callback_info info) {
  batch_socket *s = unwrap(env, info);
  napi_value out;
  napi_create_uint32(env, s == NULL ? 0 : flush_queue(s), &out);
  return out;
}

/**
 * helloAttach(handle, table, records, socketIndex): answer known peers' HELLOs on this socket with
 * the table (helloTable) from now on, booking records into `records` (an ArrayBuffer of slots x
 * helloRecordBytes); helloAttach(handle, null) detaches.
 */
static napi_value js_hello_attach(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_valuetype t;
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "helloAttach: 2 or 4 arguments");
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_get_value_external(env, argv[0], &p) != napi_ok) return throw_type(env, "helloAttach: not a socket");
  batch_socket *s = p;
  if (s->closing) return NULL;
  if (s->hello_ref != NULL) napi_delete_reference(env, s->hello_ref);
  s->hello_ref = NULL;
  s->hello = NULL;
  s->hello_records = NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t == napi_null) return NULL;
  hello_table *table = hello_table_of(env, argv[1]);
  size_t records_len = 0;
  int32_t index = -1;
  uint8_t *records = argc >= 4 ? hello_bytes(env, argv[2], &records_len) : NULL;
  if (!table || !records || records_len < (size_t)s->slots * HELLO_RECORD_BYTES || napi_get_value_int32(env, argv[3], &index) != napi_ok || index < 0 ||
      index > 0xffff || s->slot_bytes < OK_HELLO_MAX_LENGTH) {
    return throw_type(env, "helloAttach(handle, table, records, socketIndex): bad arguments");
  }
  napi_value keep;
  napi_create_array_with_length(env, 2, &keep);
  napi_set_element(env, keep, 0, argv[1]);
  napi_set_element(env, keep, 1, argv[2]);
  napi_create_reference(env, keep, 1, &s->hello_ref);
  s->hello = table;
  s->hello_records = records;
  s->hello_socket = (uint16_t)index;
  return NULL;
}

/** close(handle): idempotent; the port is free when it returns. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  batch_socket *s = unwrap(env, info);
  if (s != NULL) close_socket(s);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value v;
  define(env, exports, "open", js_open);
  define(env, exports, "flush", js_flush);
  define(env, exports, "close", js_close);
  define(env, exports, "helloAttach", js_hello_attach);
  hello_define(env, exports);
  // layout constants, checked by the JavaScript side against its own copy
  napi_create_uint32(env, META_BYTES, &v);
  napi_set_named_property(env, exports, "metaBytes", v);
  napi_create_uint32(env, STATE_BYTES, &v);
  napi_set_named_property(env, exports, "stateBytes", v);
  napi_create_uint32(env, MAX_SLOTS, &v);
  napi_set_named_property(env, exports, "maxSlots", v);
  return exports;
}
