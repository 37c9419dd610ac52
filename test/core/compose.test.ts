import { describe, expect, it } from '@jest/globals';
import { interpolate, parseCompose, parseDotEnv, portRequests, rewriteCompose } from '../../core/compose.js';
import { allocatePorts } from '../../core/ports.js';

const alwaysFree = async () => true;

async function plan(text: string, vars: Record<string, string> = {}, id = 1) {
  const doc = parseCompose(text, 'compose.yml');
  const requests = portRequests(doc, 'compose.yml', vars);
  const bindings = await allocatePorts(id, requests, alwaysFree);
  return { requests, bindings, out: rewriteCompose(doc, 'compose.yml', vars, 'piko-app-x', bindings) };
}

describe('compose rewriting', () => {
  it('gives every published port its own host port: short and long syntax, ip, udp, ranges', async () => {
    // tcp and udp ports do not clash with each other, so 10100 serves both.
    const { bindings, out } = await plan(`services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
      - 9000/udp
      - "127.0.0.1::7000"
      - target: 3000
        published: "3000"
        mode: host
  dns:
    ports:
      - "5353-5354:53-54/udp"
`);
    expect(bindings.map((b) => `${b.service}:${b.containerPort}/${b.protocol}=${b.hostPort}`)).toEqual([
      'web:80/tcp=10180',
      'web:443/tcp=10143',
      'web:9000/udp=10100',
      'web:7000/tcp=10100',
      'web:3000/tcp=10101',
      'dns:53/udp=10153',
      'dns:54/udp=10154',
    ]);
    expect(out.services!.web!.ports).toEqual([
      { target: 80, published: '10180', protocol: 'tcp' },
      { target: 443, published: '10143', protocol: 'tcp', host_ip: '127.0.0.1' },
      { target: 9000, published: '10100', protocol: 'udp' },
      { target: 7000, published: '10100', protocol: 'tcp', host_ip: '127.0.0.1' },
      { mode: 'host', target: 3000, published: '10101', protocol: 'tcp' },
    ]);
    expect(out.services!.web!.image).toBe('nginx');
  });

  it('interpolates ${VAR:-default} in port specs from the environment and .env', async () => {
    const { bindings } = await plan(
      `services:\n  api:\n    ports:\n      - "\${API_HOST_PORT:-8000}:\${API_PORT:-8000}"\n      - "\${OTHER}:\${GRPC_PORT}"\n`,
      { GRPC_PORT: '9090' },
    );
    expect(bindings.map((b) => b.containerPort)).toEqual([8000, 9090]);
    expect(interpolate('$$HOME ${A-x} ${B:-y} ${C:+set} $D', { A: '', B: '', C: '1', D: 'd' }, 'f')).toBe('$HOME  y set d');
    expect(() => interpolate('${NEED:?give it}', {}, 'compose.yml')).toThrow('compose.yml: NEED is required (give it)');
    expect(parseDotEnv('# c\nA=1\nexport B="two words"\nC=3 # note\n')).toEqual({ A: '1', B: 'two words', C: '3' });
  });

  it('makes fixed container names and named networks and volumes per environment; leaves external ones', async () => {
    const { out } = await plan(`services:
  db:
    container_name: postgres
networks:
  backend:
    name: shared-backend
  outside:
    name: corp
    external: true
volumes:
  data:
    name: pgdata
  cache: {}
  ext:
    external: true
    name: keep-me
`);
    expect(out.services!.db!.container_name).toBe('piko-app-x-postgres');
    expect(out.networks).toEqual({
      backend: { name: 'piko-app-x_backend' },
      outside: { name: 'corp', external: true },
      default: { name: 'piko-app-x' },
    });
    expect(out.volumes).toEqual({ data: { name: 'piko-app-x_data' }, cache: {}, ext: { external: true, name: 'keep-me' } });
  });

  it('resolves YAML anchors and merge keys', async () => {
    const { bindings, out } = await plan(`x-base: &base
  image: app
  ports: ["3000"]
services:
  a: *base
  b:
    <<: *base
    command: worker
`);
    expect(bindings.map((b) => `${b.service}=${b.hostPort}`)).toEqual(['a=10100', 'b=10101']);
    expect(out.services!.b).toMatchObject({ image: 'app', command: 'worker' });
  });

  it('reports what is wrong and where', () => {
    expect(() => parseCompose('services: [\n', 'compose.yml')).toThrow('compose.yml: not valid YAML: line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]');
    expect(() => parseCompose('- a\n', 'compose.yml')).toThrow('compose.yml: expected a mapping');
    const doc = parseCompose('services:\n  web:\n    ports: ["80:http"]\n', 'compose.yml');
    expect(() => portRequests(doc, 'compose.yml', {})).toThrow('compose.yml: services.web.ports[0]: "http" is not a port or port range');
    const proto = parseCompose('services:\n  web:\n    ports: ["80/sctp"]\n', 'compose.yml');
    expect(() => portRequests(proto, 'compose.yml', {})).toThrow('protocol "sctp" is not tcp or udp');
  });
});

describe('port allocation', () => {
  it('uses 10000 + 100 × id + port mod 100, the next free port on a clash, and skips ports in use', async () => {
    const busyTcp = new Set([10380, 10381]);
    const bindings = await allocatePorts(
      3,
      [
        { service: 'web', containerPort: 80, protocol: 'tcp' },
        { service: 'alt', containerPort: 8080, protocol: 'tcp' },
        { service: 'dns', containerPort: 80, protocol: 'udp' },
        { service: 'end', containerPort: 99, protocol: 'tcp' },
        { service: 'wrap', containerPort: 1099, protocol: 'tcp' },
      ],
      async (port, protocol) => protocol === 'udp' || !busyTcp.has(port),
    );
    // web: 10380 and 10381 are in use; alt (80 again): next after web; dns: udp is its own space;
    // wrap (…99 taken by end): wraps to the start of the block.
    expect(bindings.map((b) => b.hostPort)).toEqual([10382, 10383, 10380, 10399, 10300]);
  });

  it('really skips a port another process listens on', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(10180, '127.0.0.1', resolve));
    try {
      const [binding] = await allocatePorts(1, [{ service: 'web', containerPort: 80, protocol: 'tcp' }]);
      expect(binding!.hostPort).toBe(10181);
    } finally {
      server.close();
    }
  });

  it('says so when an id has no block below 65535 or a block is full', async () => {
    await expect(allocatePorts(555, [{ service: 'web', containerPort: 80, protocol: 'tcp' }], alwaysFree)).rejects.toThrow(
      'environment id 555 has no port block: 10000 + 100 × 555 + 99 = 65599 is past 65535',
    );
    await expect(allocatePorts(2, [{ service: 'web', containerPort: 80, protocol: 'tcp' }], async () => false)).rejects.toThrow(
      'no free port left in 10200-10299 for web:80/tcp',
    );
  });
});
