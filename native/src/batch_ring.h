// The per-datagram metadata record of the batch UDP addon's rings (both receive and send), as
// batch_udp.c fills and reads it and src/node/batch-ring.ts mirrors it; hello_napi.h's test entry
// takes a source in the same layout. Header only, like napi_util.h.

#ifndef ZTROOT_BATCH_RING_H
#define ZTROOT_BATCH_RING_H

#define META_BYTES 32
#define META_LENGTH 0 // u32, host order
#define META_PORT 4   // u16, host order
#define META_FAMILY 6 // u8: 4 or 6
#define META_FLAGS 7  // u8: receive only, FLAG_TRUNCATED when the datagram did not fit its slot
#define META_IP 8     // 4 or 16 bytes, network order
#define FLAG_TRUNCATED 1
#define FLAG_HANDLED 2 // answered by the HELLO fast path: JavaScript skips it

#endif
