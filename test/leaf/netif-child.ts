// Run inside a network namespace by netif.test.ts: configureTap with the settings given as JSON
// in argv[2] (and the previous state in argv[3]); prints what it applied, or the error's code.
import { configureTap, type TapApplied, type TapSettings } from '../../src/leaf/tap-device.ts';

const [device, settings, current] = [process.argv[2], JSON.parse(process.argv[3]) as TapSettings, JSON.parse(process.argv[4]) as TapApplied];
try {
  process.stdout.write(JSON.stringify({ applied: configureTap(device, settings, current) }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: (e as NodeJS.ErrnoException).code ?? (e as Error).name, message: (e as Error).message }));
}
