// thread_sched: put the calling thread in Linux's SCHED_IDLE class, which runs only when no
// ordinary thread wants the CPU. ztroot's identity-validation threads use it so a flood of new
// identities never takes CPU time from the threads that answer known peers. Node has no API for
// per-thread scheduling policy (os.setPriority only renices).

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <node_api.h>

#include "napi_util.h"

/** idleThisThread(): 0 on success, else the errno of sched_setscheduler. */
static napi_value js_idle_this_thread(napi_env env, napi_callback_info info) {
  struct sched_param param;
  memset(&param, 0, sizeof param);
  // pid 0 = the calling thread (Linux schedules threads individually)
  int rc = sched_setscheduler(0, SCHED_IDLE, &param) == 0 ? 0 : errno;
  napi_value v;
  napi_create_int32(env, rc, &v);
  return v;
}

NAPI_MODULE_INIT() {
  define(env, exports, "idleThisThread", js_idle_this_thread);
  return exports;
}
