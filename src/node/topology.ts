// The worlds a node knows — one planet and any number of moons — and what follows from them:
// which identities are upstreams (roots), whether this node is one, which stable endpoints a
// root may be reached at, and which world updates to hand a peer in OK(HELLO)
// (docs/protocol/05-world-moons.md §3–§6, docs/protocol/04-verbs.md §4.1).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';
import type { Address } from '../identity/address.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { sameIp } from './ip-scope.ts';
import type { HelloMoon } from '../wire/verbs/hello.ts';
import { DEFAULT_PLANET } from '../world/default-planet.ts';
import { WorldType } from '../world/constants.ts';
import { World, type WorldRoot } from '../world/world.ts';

export type WorldAcceptance = 'accepted' | 'not-newer' | 'bad-signature' | 'foreign' | 'not-seeded';

export interface Upstream extends WorldRoot {
  readonly role: 'PLANET' | 'MOON';
}

/** `<16 hex digits>.moon`, the only names a node loads from moons.d. */
const MOON_FILE = /^[0-9a-f]{16}\.moon$/;

export class Topology {
  readonly self: Address;
  private planetWorld: World | undefined;
  private readonly moonWorlds = new Map<bigint, World>();
  /** Pending orbit requests: moon ID → seed address (docs/protocol/05-world-moons.md §6.1). */
  private readonly seeds = new Map<bigint, Address>();
  private upstreamCache: Map<Address, Upstream> | undefined;
  private readonly worldListeners: (() => void)[] = [];

  constructor(self: Address) {
    this.self = self;
  }

  get planet(): World | undefined {
    return this.planetWorld;
  }
  get moons(): World[] {
    return [...this.moonWorlds.values()];
  }
  get worlds(): World[] {
    return this.planetWorld ? [this.planetWorld, ...this.moonWorlds.values()] : [...this.moonWorlds.values()];
  }

  /** Call `f` after every change of the planet or the moons. */
  onWorldsChanged(f: () => void): void {
    this.worldListeners.push(f);
  }

  private worldsChanged(): void {
    this.upstreamCache = undefined;
    for (const f of this.worldListeners) f();
  }

  /** Replace the planet unconditionally (local files, configuration). */
  setPlanet(w: World | undefined): void {
    this.planetWorld = w;
    this.worldsChanged();
  }

  /** Add or replace a moon unconditionally (local files, configuration). */
  setMoon(w: World): void {
    this.moonWorlds.set(w.id, w);
    this.seeds.delete(w.id);
    this.worldsChanged();
  }

  removeMoon(id: bigint): boolean {
    this.seeds.delete(id);
    const removed = this.moonWorlds.delete(id);
    this.worldsChanged();
    return removed;
  }

  /** Serve exactly these worlds from now on (a root reloading its home directory). */
  replaceWorlds(planet: World | undefined, moons: readonly World[]): void {
    this.setPlanet(planet);
    for (const m of this.moons) if (!moons.some((n) => n.id === m.id)) this.removeMoon(m.id);
    for (const m of moons) this.setMoon(m);
  }

  /** orbit with a seed: the moon is fetched from that address (accepted unsigned once). */
  addSeed(moonId: bigint, seed: Address): void {
    if (!this.moonWorlds.has(moonId)) this.seeds.set(moonId, seed);
  }
  get pendingSeeds(): ReadonlyMap<bigint, Address> {
    return this.seeds;
  }

  /** Every root of every world except ourselves. */
  upstreams(): Map<Address, Upstream> {
    if (!this.upstreamCache) {
      const m = new Map<Address, Upstream>();
      for (const w of this.worlds) {
        for (const r of w.roots) {
          if (r.identity.address !== this.self && !m.has(r.identity.address)) {
            m.set(r.identity.address, { ...r, role: w.type === WorldType.planet ? 'PLANET' : 'MOON' });
          }
        }
      }
      this.upstreamCache = m;
    }
    return this.upstreamCache;
  }

  isUpstream(a: Address): boolean {
    return this.upstreams().has(a);
  }

  /** True if our own identity is a root of any world (we act as a root). */
  get amUpstream(): boolean {
    return this.worlds.some((w) => w.roots.some((r) => r.identity.address === this.self));
  }

  /**
   * isProhibitedEndpoint: a root that lists stable endpoints may only be used at those IPs
   * (port ignored); any IP is fine for other peers and for roots without endpoints.
   */
  isProhibitedEndpoint(a: Address, remote: IpAddress): boolean {
    const up = this.upstreams().get(a);
    if (!up || up.stableEndpoints.length === 0) return false;
    return !up.stableEndpoints.some((ep) => sameIp(ep, remote));
  }

  /**
   * World updates for OK(HELLO) (docs/protocol/04-verbs.md §4.1): our planet if the peer has the same planet
   * with an older timestamp, and each of our moons the peer listed with an older timestamp
   * (0 for a moon it wants but does not have).
   */
  updatesFor(peerPlanet: { id: bigint; timestamp: bigint } | undefined, peerMoons: readonly HelloMoon[] | undefined): World[] {
    const out: World[] = [];
    const p = this.planetWorld;
    if (p && peerPlanet && peerPlanet.id === p.id && peerPlanet.timestamp < p.timestamp) out.push(p);
    for (const m of peerMoons ?? []) {
      if (m.worldType !== WorldType.moon) continue;
      const ours = this.moonWorlds.get(m.id);
      if (ours && m.timestamp < ours.timestamp && !out.includes(ours)) out.push(ours);
    }
    return out;
  }

  /** The moon list our own HELLOs carry: moons we have, then wanted moons with timestamp 0. */
  helloMoons(): HelloMoon[] {
    return [
      ...this.moons.map((m) => ({ worldType: WorldType.moon, id: m.id, timestamp: m.timestamp })),
      ...[...this.seeds.keys()].map((id) => ({ worldType: WorldType.moon, id, timestamp: 0n })),
    ];
  }

  /**
   * A world received in OK(HELLO) (docs/protocol/05-world-moons.md §3; the caller checks the sender is an
   * upstream or a pending seed): a newer signed revision of a world we have, or the first copy of
   * a seeded moon that lists its seed as a root.
   */
  consider(w: World): WorldAcceptance {
    if (w.type === WorldType.planet) {
      if (!this.planetWorld || this.planetWorld.id !== w.id) return 'foreign';
      return this.replaceIfNewer(this.planetWorld, w, () => this.setPlanet(w));
    }
    if (w.type !== WorldType.moon) return 'foreign';
    const current = this.moonWorlds.get(w.id);
    if (current) return this.replaceIfNewer(current, w, () => this.setMoon(w));
    const seed = this.seeds.get(w.id);
    if (seed === undefined || !w.roots.some((r) => r.identity.address === seed)) return 'not-seeded';
    this.setMoon(w); // a seeded moon's first copy is taken unsigned, as 1.14 does
    return 'accepted';
  }

  private replaceIfNewer(current: World, candidate: World, replace: () => void): WorldAcceptance {
    if (candidate.timestamp <= current.timestamp) return 'not-newer';
    if (!current.shouldBeReplacedBy(candidate)) return 'bad-signature';
    replace();
    return 'accepted';
  }
}

export interface LoadedWorlds {
  planet: World | undefined;
  moons: World[];
  /** Files that could not be used, with the reason (for a log line each). */
  problems: string[];
}

/**
 * Save a world where loadWorldFiles finds it again (`<home>/planet`, `<home>/moons.d/<id>.moon`),
 * atomically, as 1.14 saves an accepted update. Returns the file written.
 */
export function saveWorldFile(home: string, w: World): string {
  const file = w.isPlanet ? join(home, 'planet') : join(home, 'moons.d', w.fileName);
  writeFileAtomic(file, w.serialize());
  return file;
}

/** Read `<home>/planet` and `<home>/moons.d/<id>.moon`. A missing file is not a problem. */
export function loadWorldFiles(home: string): LoadedWorlds {
  const problems: string[] = [];
  const read = (path: string, want: WorldType): World | undefined => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    const d = World.decode(bytes);
    if (typeof d === 'string') {
      problems.push(`${path}: not a world file (${d})`);
      return undefined;
    }
    if (d.world.type !== want) {
      problems.push(`${path}: holds a ${d.world.isPlanet ? 'planet' : 'moon'}, expected a ${want === WorldType.planet ? 'planet' : 'moon'}`);
      return undefined;
    }
    return d.world;
  };
  const planet = read(join(home, 'planet'), WorldType.planet);
  const moons: World[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(join(home, 'moons.d'));
  } catch { /* no moons.d */ }
  for (const name of names.sort()) {
    if (!MOON_FILE.test(name)) continue;
    const m = read(join(home, 'moons.d', name), WorldType.moon);
    if (!m) continue;
    if (m.fileName !== name) {
      problems.push(`${join(home, 'moons.d', name)}: holds moon ${m.idHex}, file name does not match`);
      continue;
    }
    moons.push(m);
  }
  return { planet, moons, problems };
}

/** The value of a `planet` setting that names ZeroTier's public planet (built in as data). */
export const PUBLIC_PLANET_SETTING = 'public';

/**
 * The planet a node lives in. With no setting: `<home>/planet`, if any — never the public planet.
 * With a setting (a planet file, or "public"): that planet, unless `<home>/planet` holds a newer
 * revision of the same planet (an update taken in-band and saved there, as 1.14 saves it).
 * Throws with a one-line reason when the setting names something that is not a planet.
 */
export function choosePlanet(setting: string | undefined, homePlanet: World | undefined): World | undefined {
  if (setting === undefined) return homePlanet;
  let bytes: Uint8Array;
  if (setting === PUBLIC_PLANET_SETTING) bytes = DEFAULT_PLANET;
  else {
    try {
      bytes = readFileSync(setting);
    } catch (e) {
      throw new Error(`planet ${setting}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const d = World.decode(bytes);
  if (typeof d === 'string') throw new Error(`planet ${setting}: not a world file (${d})`);
  if (d.world.type !== WorldType.planet) throw new Error(`planet ${setting}: holds a moon, not a planet`);
  const named = d.world;
  return homePlanet && homePlanet.id === named.id && homePlanet.timestamp > named.timestamp ? homePlanet : named;
}
