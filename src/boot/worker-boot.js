// Entry of every worker thread we start (src/boot/new-worker.ts): module hooks are not inherited
// from the main thread, so the stripped-sources hook is installed here before the real entry,
// whose URL is the thread's first argument, is loaded.
import './stripped-sources.js';

await import(process.argv[2]);
