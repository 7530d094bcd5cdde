// file_pages: hand back the pages of read-only file mappings (the node binary, shared libraries,
// the addons) that this process has touched. Start-up touches far more of Node's 100 MB binary
// than a running daemon uses again — module loading, the compilers, the CLI — and those clean
// pages stay counted in the resident set until memory pressure evicts them. Dropping them from
// this process's page tables costs nothing that matters: a page touched again is mapped back
// from the page cache (a minor fault), with the file's unchanged contents.
//
// Only mappings whose pages are all still the file's own qualify: private, not writable, file
// backed, and with no copy-on-write (Anonymous) page — a RELRO segment the dynamic linker
// relocated and then made read-only holds private copies that MADV_DONTNEED would throw away.

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <node_api.h>

#include "napi_util.h"

struct mapping {
  uintptr_t start, end;
  int eligible;           /* private, read-only, file backed */
  unsigned long rss_kb;
  unsigned long anonymous_kb;
  int open;
};

/** Release one finished mapping if it qualifies; returns the resident kB released. */
static unsigned long finish(struct mapping *m) {
  if (!m->open || !m->eligible || m->anonymous_kb != 0 || m->rss_kb == 0) return 0;
  if (madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) != 0) return 0;
  return m->rss_kb;
}

/** A mapping header: "start-end perms offset dev inode [path]". */
static int parse_header(const char *line, struct mapping *m) {
  uintptr_t start, end;
  char perms[8];
  unsigned long long offset, inode;
  char dev[16];
  if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %15s %llu", &start, &end, perms, &offset, dev, &inode) != 6) return 0;
  m->start = start;
  m->end = end;
  m->eligible = inode != 0 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
  m->rss_kb = 0;
  m->anonymous_kb = 0;
  m->open = 1;
  return 1;
}

/** releaseFilePages(): resident bytes given back; throws with the errno's code if /proc is unreadable. */
static napi_value js_release_file_pages(napi_env env, napi_callback_info info) {
  FILE *f = fopen("/proc/self/smaps", "re");
  if (!f) return throw_errno(env, errno, "open /proc/self/smaps");
  char line[4352];
  struct mapping m = { 0 };
  unsigned long released_kb = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long kb;
    if (sscanf(line, "Rss: %lu kB", &kb) == 1) m.rss_kb = kb;
    else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) m.anonymous_kb = kb;
    else if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
      struct mapping next;
      if (parse_header(line, &next)) {
        released_kb += finish(&m);
        m = next;
      }
    }
  }
  released_kb += finish(&m);
  fclose(f);
  napi_value v;
  napi_create_double(env, (double)released_kb * 1024.0, &v);
  return v;
}

NAPI_MODULE_INIT() {
  define(env, exports, "releaseFilePages", js_release_file_pages);
  return exports;
}
