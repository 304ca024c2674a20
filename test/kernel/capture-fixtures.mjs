#!/usr/bin/env node
// Captures real kernel replies for the codec's golden-byte decode tests.
// Run inside the test kernel (node test/kernel/harness.mjs -- node test/kernel/capture-fixtures.mjs):
// builds a table with ipvsadm (an independent client), dumps it over generic
// netlink, and writes every reply payload as hex to test/fixtures/kernel-replies.json.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as IPVS from '../../dist/ipvs/constants.js';
import { ipvsMessage } from '../../dist/ipvs/codec.js';
import * as NL from '../../dist/netlink/constants.js';
import { parseGenl } from '../../dist/netlink/wire.js';
import { openIpvsGenl } from './ipvs-genl.mjs';

const K = { ...NL, ...IPVS };

const ipvsadm = (...a) => execFileSync('ipvsadm', a);
ipvsadm('-C');
ipvsadm('--set', '900', '120', '300');
ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'wrr', '-p', '600', '-M', '255.255.255.0');
ipvsadm('-a', '-t', '192.0.2.1:80', '-r', '192.0.2.10:8080', '-m', '-w', '5', '-x', '100', '-y', '50');
ipvsadm(
  '-a',
  '-t',
  '192.0.2.1:80',
  '-r',
  '198.51.100.7',
  '-i',
  '-w',
  '2',
  '--tun-type',
  'gue',
  '--tun-port',
  '6080',
  '--tun-remcsum',
);
ipvsadm('-A', '-u', '[2001:db8::1]:53', '-s', 'sh', '-b', 'sh-fallback,sh-port', '-o');
ipvsadm('-a', '-u', '[2001:db8::1]:53', '-r', '[2001:db8::10]:53', '-g', '-w', '0');
ipvsadm('-A', '-f', '7', '-6', '-s', 'mh', '-b', 'mh-port', '-p', '60', '-M', '64', '--pe', 'sip');
ipvsadm('-A', '--sctp-service', '203.0.113.5:3868', '-s', 'lc');

const { sock, request, hdr } = await openIpvsGenl();
const hex = (ms) => ms.map((m) => m.payload.toString('hex'));
const out = {
  kernel: execFileSync('uname', ['-r']).toString().trim(),
  ipvsadmSave: ipvsadm('-Sn').toString(),
  info: null,
  config: null,
  services: [],
  dests: {},
};
out.info = hex(await request(ipvsMessage(hdr(0), K.IPVS_CMD_GET_INFO, [])))[0];
out.config = hex(await request(ipvsMessage(hdr(0), K.IPVS_CMD_GET_CONFIG, [])))[0];
const svcs = await request(ipvsMessage(hdr(K.NLM_F_DUMP), K.IPVS_CMD_GET_SERVICE, []));
out.services = hex(svcs);
for (const m of svcs) {
  // Ask for the destinations with the service's own nested attribute, as the kernel sent it.
  const svcAttr = parseGenl(m.payload).attrs.get(K.IPVS_CMD_ATTR_SERVICE);
  const a = Buffer.alloc(4);
  a.writeUInt16LE(svcAttr.length + 4);
  a.writeUInt16LE(K.IPVS_CMD_ATTR_SERVICE | K.NLA_F_NESTED, 2);
  const body = Buffer.concat([a, svcAttr, Buffer.alloc((4 - (svcAttr.length % 4)) % 4)]);
  out.dests[m.payload.toString('hex')] = hex(
    await request(ipvsMessage(hdr(K.NLM_F_DUMP), K.IPVS_CMD_GET_DEST, [body])),
  );
}
sock.close();
ipvsadm('-C');
writeFileSync(new URL('../fixtures/kernel-replies.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`captured ${out.services.length} services`);
