// Small N-API helpers shared by the addons in this folder: throwing an error (with an errno's
// name as its code) and exporting a function. Header only, so each addon still compiles alone
// from its one .c file; everything is static inline, so an addon that uses only some of it gets
// no unused-function warning.

#ifndef ZTROOT_NAPI_UTIL_H
#define ZTROOT_NAPI_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <node_api.h>

/**
 * The symbolic name of the errors the addons meet in practice (socket, bind, ioctl, netlink,
 * /dev/net/tun), "EIO" for any other. A switch rather than strerrorname_np: no glibc extension.
 */
static inline const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case ESRCH: return "ESRCH";
    case EAGAIN: return "EAGAIN";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENETUNREACH: return "ENETUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    default: return "EIO";
  }
}

/** Throw an Error with `code` (NULL: none); returns NULL for `return throw_error(...)`. */
static inline napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/** Throw a TypeError (bad arguments); returns NULL. */
static inline napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/** Throw an Error coded with errno `e`'s name, its message "what: strerror(e)"; returns NULL. */
static inline napi_value throw_errno(napi_env env, int e, const char *what) {
  char message[200];
  snprintf(message, sizeof message, "%s: %s", what, strerror(e));
  return throw_error(env, errno_name(e), message);
}

/** Export `fn` as `exports[name]`. */
static inline void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

/** Export an unsigned number as `exports[name]` (a layout constant the JavaScript side checks). */
static inline void define_uint32(napi_env env, napi_value exports, const char *name, uint32_t value) {
  napi_value v;
  napi_create_uint32(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

#endif
