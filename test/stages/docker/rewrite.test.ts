import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { parseComposeText, type ComposeDocument } from '../../../stages/docker/load.js';
import { resolveTags } from '../../../stages/docker/merge.js';
import { allocatePorts } from '../../../stages/docker/ports.js';
import { interpolate, parseDotEnv } from '../../../stages/docker/interpolate.js';
import { portRequests } from '../../../stages/docker/published.js';
import { rewriteCompose } from '../../../stages/docker/rewrite.js';
import { writeComposeYaml } from '../../../stages/docker/yaml.js';

const alwaysFree = async () => true;
const parseCompose = (text: string, file: string) => resolveTags(parseComposeText(text, file)) as ComposeDocument;

async function plan(text: string, vars: Record<string, string> = {}, id = 1) {
  const doc = parseCompose(text, 'compose.yml');
  const requests = portRequests(doc, 'compose.yml', vars);
  const bindings = await allocatePorts(id, requests, alwaysFree);
  const rewritten = rewriteCompose(doc, { file: 'compose.yml', vars, composeProject: 'piko-app-x', id, bindings, ownPaths: ['/work/env'] });
  return { requests, bindings, out: rewritten.doc, notes: rewritten.notes, warnings: rewritten.warnings };
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
    // The short syntax wherever it can say it: Compose v1 knows no host_ip in the long syntax.
    expect(out.services!.web!.ports).toEqual([
      '10180:80/tcp',
      '127.0.0.1:10143:443/tcp',
      '10100:9000/udp',
      '127.0.0.1:10100:7000/tcp',
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
    // The old name still answers on the service's networks.
    expect(out.services!.db!.networks).toEqual({ default: { aliases: ['postgres'] } });
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

describe('what real compose files need', () => {
  it('keeps a renamed container_name resolvable by its old name, and points network_mode at the service', async () => {
    const { out } = await plan(`services:
  pg:
    image: postgres
    container_name: pg
    networks: [backend, default]
  app:
    image: app
    environment: {DB_HOST: pg}
    networks: {backend: {aliases: [api]}}
  sidecar:
    image: proxy
    network_mode: "container:pg"
  outside:
    image: x
    network_mode: "container:not-ours"
networks:
  backend: {}
`);
    expect(out.services!.pg).toMatchObject({
      container_name: 'piko-app-x-pg',
      networks: { backend: { aliases: ['pg'] }, default: { aliases: ['pg'] } },
    });
    expect(out.services!.app!.networks).toEqual({ backend: { aliases: ['api'] } });
    expect(out.services!.sidecar!.network_mode).toBe('service:pg');
    expect(out.services!.outside!.network_mode).toBe('container:not-ours');
  });

  it('gives each replica a host port of its own, and says which in the variables', async () => {
    const { bindings, out } = await plan(`services:
  web:
    image: nginx
    deploy: {replicas: 3}
    ports: ["8080:80"]
  worker:
    image: w
    scale: \${WORKERS:-2}
    ports: ["127.0.0.1::9000"]
  one:
    image: o
    ports: ["81"]
`);
    expect(bindings).toEqual([
      { service: 'web', containerPort: 80, hostPort: 10180, protocol: 'tcp', replicas: 3 },
      { service: 'worker', containerPort: 9000, hostPort: 10100, protocol: 'tcp', replicas: 2 },
      // 10181 belongs to web's second replica: the next free one.
      { service: 'one', containerPort: 81, hostPort: 10183, protocol: 'tcp' },
    ]);
    expect(out.services!.web!.ports).toEqual(['10180-10182:80/tcp']);
    expect(out.services!.worker!.ports).toEqual(['127.0.0.1:10100-10101:9000/tcp']);
    const { environmentVariables } = await import('../../../core/environment/vars.js');
    const vars = environmentVariables('/r', { id: 1, name: 'x', project: 'app', mode: 'docker', status: 'running', branch: 'x', path: '/p', dataDir: '/d', ports: bindings });
    expect(vars).toMatchObject({ PIKO_WEB_PORT: '10180', PIKO_WEB_PORTS: '10180-10182', PIKO_WORKER_PORTS: '10100-10101', PIKO_ONE_PORT: '10183' });
    expect(vars.PIKO_ONE_PORTS).toBeUndefined();
  });

  it('says what the limit is when a range is wider than the block, and when the block runs out', async () => {
    await expect(plan('services:\n  rtp:\n    ports: ["10000-10200:10000-10200/udp"]\n')).rejects.toThrow(
      'compose.yml: services.rtp.ports[0]: the range 10000-10200 publishes 201 ports, but an environment has a block of 100 host ports',
    );
    await expect(plan('services:\n  a:\n    ports: ["9000-9060"]\n  b:\n    ports: ["8000-8060"]\n')).rejects.toThrow(
      /no free port left in 10100-10199 for b:\d+\/tcp: each environment has 100 host ports for all its published ports; publish fewer/,
    );
  });

  it('names what cannot be isolated, once each, and leaves host-network ports alone', async () => {
    const { requests, out, warnings } = await plan(`services:
  metrics:
    image: agent
    network_mode: host
    ports: ["9100:9100"]
  web:
    build: .
    image: acme/web:dev
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - ./src:/src
      - \${PIKO_ENV_PATH}/cache:/cache
      - type: bind
        source: /srv/shared
        target: /shared
      - data:/data
  own:
    build: .
    image: acme/own:\${PIKO_ENV_NAME}
volumes:
  data: {}
  legacy: {external: true}
`, { PIKO_ENV_PATH: '/work/env', PIKO_ENV_NAME: 'x' });
    expect(requests).toEqual([]);
    expect(out.services!.metrics!.ports).toEqual(['9100:9100']);
    expect(warnings).toEqual([
      "services.metrics uses network_mode: host, so its ports are the host's own: piko cannot give them per-environment ports, and two environments of it clash on them",
      'services.web mounts /var/run/docker.sock from the host: every environment shares it',
      'services.web mounts /srv/shared from the host: every environment shares it',
      'services.web builds the image acme/web:dev: every environment tags that same image, so the last build wins for all of them (a tag such as acme/web:${PIKO_ENV_NAME} gives each its own)',
      'volumes.legacy is external: every environment shares its data',
    ]);
  });

  it('moves fixed IPv4 subnets and the addresses in them to subnets of the environment, and warns of the rest', async () => {
    const text = `services:
  dns:
    image: dns
    networks:
      lab: {ipv4_address: 172.28.5.10}
networks:
  lab:
    ipam:
      config:
        - subnet: 172.28.0.0/16
          gateway: 172.28.0.1
          ip_range: 172.28.5.0/24
  v6:
    enable_ipv6: true
    ipam: {config: [{subnet: "fd00:1::/64"}]}
  public:
    ipam: {config: [{subnet: 8.8.0.0/16}]}
`;
    const first = await plan(text, {}, 1);
    const second = await plan(text, {}, 2);
    expect((first.out.networks as Record<string, { ipam: unknown }>).lab!.ipam).toEqual({
      config: [{ subnet: '172.29.0.0/16', gateway: '172.29.0.1', ip_range: '172.29.5.0/24' }],
    });
    expect((second.out.networks as Record<string, { ipam: { config: { subnet: string }[] } }>).lab!.ipam.config[0]!.subnet).toBe('172.30.0.0/16');
    expect(first.out.services!.dns!.networks).toEqual({ lab: { ipv4_address: '172.29.5.10' } });
    expect(first.notes).toEqual([
      'networks.lab: the fixed subnet 172.28.0.0/16 is 172.29.0.0/16 in this environment',
      'services.dns: ipv4_address 172.28.5.10 on lab is 172.29.5.10',
    ]);
    expect(first.warnings).toEqual([
      'networks.v6 has the fixed IPv6 subnet fd00:1::/64: two environments of it collide (docker refuses the second)',
      'networks.public has the fixed subnet 8.8.0.0/16, which is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16): two environments of it collide (docker refuses the second)',
    ]);
  });

  it('moves addresses of a moved subnet where the compose file names them, and names those it cannot reach', async () => {
    // Pi-hole forwarding to unbound by its fixed address, in the same fixed subnet.
    const text = `services:
  unbound:
    image: unbound
    networks:
      dns: {ipv4_address: 172.20.0.2}
    healthcheck:
      test: ["CMD", "drill", "@172.20.0.2", "-p", "5054", "example.com"]
  pihole:
    image: pihole
    environment:
      PIHOLE_DNS_: 172.20.0.2#5054
      FALLBACK: \${FALLBACK:-172.20.0.2}
      NEIGHBOUR: 172.20.0.25
      OUTSIDE: 172.20.0.200
      VERSION: 1.172.20.0.2
      UPSTREAM: \${UPSTREAM}
      GATEWAY:
    env_file: [./pihole.env, {path: ./missing.env, required: false}]
    dns: [127.0.0.1, 172.20.0.2]
    extra_hosts: ["unbound:172.20.0.2", "other=172.20.0.3"]
    command: --server=172.20.0.2 --version 172.20.0.2.1
    networks:
      dns: {ipv4_address: 172.20.0.3}
  admin:
    image: admin
    environment: ["DNS=172.20.0.2", "HOSTS=172.20.0.3,172.20.0.21", PASSED]
    labels: {dns.upstream: "172.20.0.2"}
    entrypoint: [dig, "@172.20.0.2"]
  tool:
    build: {context: ., args: {UPSTREAM: 172.20.0.2}}
networks:
  dns:
    ipam:
      config:
        - subnet: 172.20.0.0/25
          gateway: 172.20.0.1
`;
    const doc = parseCompose(text, 'compose.yml');
    const envFiles: Record<string, string> = { './pihole.env': '# upstream\nWEBPASSWORD=x\nREV_SERVER_TARGET=172.20.0.1\n' };
    const { doc: out, notes, warnings } = rewriteCompose(doc, {
      file: 'compose.yml',
      vars: { UPSTREAM: '172.20.0.2#5054', GATEWAY: '172.20.0.1', PASSED: '10.0.0.1' },
      composeProject: 'piko-app-x',
      id: 1,
      bindings: [],
      ownPaths: [],
      readFile: (path) => envFiles[path],
    });
    const services = out.services!;
    expect(services.pihole!.environment).toEqual({
      PIHOLE_DNS_: '172.20.0.130#5054',
      FALLBACK: '${FALLBACK:-172.20.0.130}',
      // 172.20.0.25 is its own address in the subnet; 172.20.0.200 lies outside it, and a version is no address.
      NEIGHBOUR: '172.20.0.153',
      OUTSIDE: '172.20.0.200',
      VERSION: '1.172.20.0.2',
      UPSTREAM: '${UPSTREAM}',
      GATEWAY: null,
    });
    expect(services.pihole!.dns).toEqual(['127.0.0.1', '172.20.0.130']);
    expect(services.pihole!.extra_hosts).toEqual(['unbound:172.20.0.130', 'other=172.20.0.131']);
    expect(services.pihole!.command).toBe('--server=172.20.0.130 --version 172.20.0.2.1');
    expect(services.unbound!.healthcheck).toEqual({ test: ['CMD', 'drill', '@172.20.0.130', '-p', '5054', 'example.com'] });
    expect(services.admin).toMatchObject({
      environment: ['DNS=172.20.0.130', 'HOSTS=172.20.0.131,172.20.0.149', 'PASSED'],
      labels: { 'dns.upstream': '172.20.0.130' },
      entrypoint: ['dig', '@172.20.0.130'],
    });
    expect(notes).toContain('services.pihole: 172.20.0.2 in environment.PIHOLE_DNS_ is 172.20.0.130');
    expect(notes).toContain('services.admin: 172.20.0.3 in environment.HOSTS is 172.20.0.131');
    expect(warnings).toEqual([
      'services.pihole: environment.UPSTREAM gets 172.20.0.2 from the variable UPSTREAM, which piko does not rewrite: that address is 172.20.0.130 in this environment, so it points nowhere (write the address in the compose file instead)',
      'services.pihole: environment.GATEWAY gets 172.20.0.1 from the variable GATEWAY, which piko does not rewrite: that address is 172.20.0.129 in this environment, so it points nowhere (write the address in the compose file instead)',
      'services.pihole: REV_SERVER_TARGET in env_file ./pihole.env is 172.20.0.1, which piko does not rewrite: that address is 172.20.0.129 in this environment, so it points nowhere (set it under environment: instead)',
      'services.tool: build.args.UPSTREAM names 172.20.0.2, which piko does not rewrite: that address is 172.20.0.130 in this environment, so it points nowhere',
    ]);
  });

  it('writes YAML back with the meaning compose gives it: octal modes, quoted "no", no top-level name', async () => {
    const { out } = await plan(`name: fixed-name
services:
  web:
    image: nginx
    restart: "no"
    environment: {DEBUG: "on", LEVEL: "0440"}
    configs: [{source: conf, target: /etc/conf, mode: 0440}]
configs:
  conf: {file: ./conf}
`);
    const text = writeComposeYaml(out);
    expect(text).toContain('mode: 0440');
    expect(text).toContain('restart: "no"');
    expect(text).toContain('DEBUG: "on"');
    expect(text).toContain('LEVEL: "0440"');
    expect(text).not.toContain('fixed-name');
    // Read back by YAML 1.1 (Compose v1's reading), every value means what it meant.
    const { parse } = await import('yaml');
    const v11 = parse(text, { version: '1.1' });
    expect(v11.services.web.restart).toBe('no');
    expect(v11.services.web.configs[0].mode).toBe(0o440);
    expect(v11.services.web.environment).toEqual({ DEBUG: 'on', LEVEL: '0440' });
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
    // Whatever port the system hands out is some environment's preferred port: that one is tried.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    try {
      const busy = (server.address() as { port: number }).port;
      const id = Math.floor((busy - 10000) / 100);
      const [binding] = await allocatePorts(id, [{ service: 'web', containerPort: busy % 100, protocol: 'tcp' }]);
      expect(binding!.hostPort).not.toBe(busy);
      expect(Math.floor((binding!.hostPort - 10000) / 100)).toBe(id);
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
