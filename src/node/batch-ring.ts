// The per-datagram metadata record of the batch UDP addon's rings (native/src/batch_ring.h):
// batch-udp.ts reads and writes the rings with it, native-hello.ts hands the addon a source in
// the same layout. batch-udp.ts checks META_BYTES against the addon's own figure at load.

export const META_BYTES = 32;
export const META = { length: 0, port: 4, family: 6, flags: 7, ip: 8 } as const;
export const FLAG_TRUNCATED = 1;
/** Answered by the addon's HELLO fast path. */
export const FLAG_HANDLED = 2;
