// A root with the controller role and its HTTP listener, for the controller tests.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpListener } from '../../src/api/http-listener.ts';
import { startRootApi } from '../../src/root/root-api.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { defaultConfig, type RootConfig } from '../../src/root/config.ts';
import { RootServer } from '../../src/root/root-server.ts';
import type { World } from '../../src/world/world.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { HOME_FILES } from '../../src/root/home.ts';
import { parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import type { ControllerApi } from '../../tools/lab/controller-lab.ts';

// (test/support/root-harness.ts reads the shared vectors at load; these tests use only fixtures)
function writeRootHome(home: string, identity: Identity, planet?: World, moons: World[] = []): void {
  mkdirSync(join(home, HOME_FILES.moonsDir), { recursive: true });
  writeFileSync(join(home, HOME_FILES.identitySecret), identity.toString(true), { mode: 0o600 });
  if (planet) writeFileSync(join(home, HOME_FILES.planet), planet.serialize());
  for (const m of moons) writeFileSync(join(home, HOME_FILES.moonsDir, m.fileName), m.serialize());
}

export { writeRootHome };

export function endpointOf(s: { address: string; port: number }): IpAddress {
  return parseInetAddress(`${s.address}/${s.port}`)!;
}

export const API_TOKEN = 'controllertesttoken00000';

export interface ControllerRoot {
  readonly root: RootServer;
  readonly http: HttpListener;
  readonly home: string;
  readonly endpoint: IpAddress;
  /** Call the API with the token; returns status and parsed JSON (or text). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  /** The same, for the lab helpers: the parsed JSON, or a throw on an error status. */
  apiJson: ControllerApi;
  stop(): Promise<void>;
}

export async function startControllerRoot(o: { identity: Identity; home?: string; workers?: number; planet?: World; moons?: World[]; controller?: boolean }): Promise<ControllerRoot> {
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'ztroot-ctl-'));
  writeRootHome(home, o.identity, o.planet, o.moons ?? []);
  const config: RootConfig = { ...defaultConfig(), home, bind: ['127.0.0.1'], ports: [0], validationThreads: 1, workers: o.workers ?? 0, httpListen: '' };
  const root = new RootServer({ config, controller: o.controller ?? true });
  await root.start();
  const http = await startRootApi(root, { listen: '127.0.0.1:0', metricsToken: 'metrics', authToken: API_TOKEN });
  const base = `http://127.0.0.1:${http.port}`;
  const api: ControllerRoot['api'] = async (method, path, body) => {
    const res = await fetch(base + path, {
      method, headers: { 'X-ZT1-Auth': API_TOKEN },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try { parsed = text === '' ? undefined : JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.status, json: parsed, text };
  };
  return {
    root, http, home, endpoint: endpointOf(root.sockets[0]), api,
    async apiJson(method, path, body) {
      const r = await api(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text}`);
      return r.json;
    },
    async stop() {
      await http.close();
      await root.stop();
    },
  };
}
