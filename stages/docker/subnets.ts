// Fixed IPv4 subnets made per-environment: a network's `ipam.config` subnet moves, inside its
// private range, by the environment id times its size; gateways, ranges and the services'
// `ipv4_address`es inside it move with it. What cannot move is a warning.
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;

const PRIVATE_RANGES: [string, number][] = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

const ipToInt = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};
const intToIp = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export interface SubnetMove {
  from: { base: number; size: number };
  offset: number;
}

/** Moves an IPv4 subnet inside its private range by `id` subnets of its size, or says why it cannot. */
function moveSubnet(cidr: string, id: number): SubnetMove | string {
  const [ip, bits] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return 'is not an IPv4 subnet piko can move';
  const size = 2 ** (32 - prefix);
  for (const [rangeIp, rangePrefix] of PRIVATE_RANGES) {
    const rangeBase = ipToInt(rangeIp)!;
    const rangeSize = 2 ** (32 - rangePrefix);
    if (base < rangeBase || base >= rangeBase + rangeSize) continue;
    const slots = rangeSize / size;
    if (prefix < rangePrefix || slots < 2) return `is as large as its private range ${rangeIp}/${rangePrefix}`;
    const index = (base - rangeBase) / size;
    const moved = (index + id) % slots;
    return { from: { base, size }, offset: (moved - index) * size };
  }
  return 'is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)';
}

/** An address moved with its subnet, when it lies inside it. */
function moveAddress(address: unknown, move: SubnetMove): unknown {
  if (typeof address !== 'string') return address;
  const [ip, bits] = address.split('/');
  const n = ipToInt(ip ?? '');
  if (n === undefined || n < move.from.base || n >= move.from.base + move.from.size) return address;
  return `${intToIp(n + move.offset)}${bits === undefined ? '' : `/${bits}`}`;
}

/**
 * Where an address of a moved subnet is in this environment; undefined outside them. A block
 * (`a.b.c.d/n`) wider than the subnet is no place in it, so it stays.
 */
export function movedAddress(address: string, moves: readonly SubnetMove[]): string | undefined {
  const [ip, bits] = address.split('/');
  const n = ipToInt(ip ?? '');
  const size = bits === undefined ? 1 : 2 ** (32 - Number(bits));
  if (n === undefined || !(size >= 1)) return undefined;
  const move = moves.find(({ from }) => n >= from.base && n < from.base + from.size && size <= from.size);
  return move && `${intToIp(n + move.offset)}${bits === undefined ? '' : `/${bits}`}`;
}

/** A network's fixed IPv4 subnets moved to this environment's own, with the addresses inside them. */
export function moveSubnets(
  name: string,
  config: Mapping,
  id: number,
  services: Record<string, Mapping | null>,
  notes: string[],
  warnings: string[],
): { config: Mapping; moves: SubnetMove[] } | undefined {
  const ipam = isMapping(config.ipam) ? config.ipam : undefined;
  if (!ipam || !Array.isArray(ipam.config)) return undefined;
  const moves: SubnetMove[] = [];
  const entries = ipam.config.map((entry) => {
    if (!isMapping(entry) || typeof entry.subnet !== 'string') return entry;
    if (entry.subnet.includes(':')) {
      warnings.push(`networks.${name} has the fixed IPv6 subnet ${entry.subnet}: two environments of it collide (docker refuses the second)`);
      return entry;
    }
    const move = moveSubnet(entry.subnet, id);
    if (typeof move === 'string') {
      warnings.push(`networks.${name} has the fixed subnet ${entry.subnet}, which ${move}: two environments of it collide (docker refuses the second)`);
      return entry;
    }
    moves.push(move);
    const out: Mapping = { ...entry, subnet: moveAddress(entry.subnet, move) };
    for (const key of ['gateway', 'ip_range']) if (key in entry) out[key] = moveAddress(entry[key], move);
    if (isMapping(entry.aux_addresses)) {
      out.aux_addresses = Object.fromEntries(Object.entries(entry.aux_addresses).map(([k, v]) => [k, moveAddress(v, move)]));
    }
    notes.push(`networks.${name}: the fixed subnet ${entry.subnet} is ${out.subnet as string} in this environment`);
    return out;
  });
  if (moves.length === 0) return undefined;
  for (const [service, definition] of Object.entries(services)) {
    const attached = definition && isMapping(definition.networks) ? definition.networks[name] : undefined;
    if (!isMapping(attached) || typeof attached.ipv4_address !== 'string') continue;
    const before = attached.ipv4_address;
    const after = moves.reduce<unknown>((address, move) => (address === before ? moveAddress(address, move) : address), before);
    if (after !== before) {
      (definition!.networks as Mapping)[name] = { ...attached, ipv4_address: after };
      notes.push(`services.${service}: ipv4_address ${before} on ${name} is ${after as string}`);
    }
  }
  return { config: { ...config, ipam: { ...ipam, config: entries } }, moves };
}
