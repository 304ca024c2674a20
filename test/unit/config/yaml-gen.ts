// Generated YAML texts for the property tests: data trees rendered in block,
// flow and mixed styles, with every scalar style, comments, anchors, aliases,
// merge keys, block scalars, escapes, CRLF line ends and tabs after content.
import fc from 'fast-check';

const scalarText = fc.constantFrom(
  'a',
  'wrr',
  '192.0.2.1',
  '2001:db8::1',
  '[2001:db8::1]:80',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'null',
  '~',
  'Null',
  'NULL',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  '0',
  '-0',
  '-1',
  '+2',
  '007',
  '0b11',
  '-0x1F',
  '-0o17',
  '+0o17',
  '0o8',
  '1.0',
  '1.',
  '.5',
  '-.5',
  '+.5',
  '1e3',
  '-1E-3',
  '1e400',
  '9'.repeat(400),
  '0o17',
  '0x1f',
  '0xZZ',
  '.inf',
  '-.Inf',
  '+.inf',
  '.nan',
  '1_000',
  '2020-01-01',
  '2020-01-01T10:00:00Z',
  '12:30:00',
  '1:20',
  '12s',
  '1h30m',
  'a b',
  'a: b',
  'a:b',
  'a #b',
  'a#b',
  '#a',
  "it's",
  '"q"',
  "'q'",
  '- a',
  '-a',
  '?a',
  '? a',
  ':a',
  ': a',
  ',',
  'a,b',
  '[a]',
  '{a}',
  'a]',
  'x}',
  '&a',
  '*a',
  '!t',
  '|',
  '>',
  '%',
  '@a',
  '`a`',
  '',
  ' a',
  'a ',
  '---',
  '...',
  'é',
  'http://x/y',
  'a:',
  'a: ',
  'a - b',
  'x_y.z/w-1',
  '__proto__',
  '<<',
  '=',
  'a\\b',
  'tab\there',
  'a\nb',
  '\\x41',
  'constructor',
  'toString',
);
const scalar = fc.oneof(
  scalarText,
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(true, false, null, 1.5, -0.25),
);
const key = fc.oneof(
  fc.constantFrom('vip', 'port', 'realservers', 'a', 'b_c', 'net/ipv4/ip_forward', 'x.y', 'k-1'),
  scalarText,
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('seq'), tie('map')),
  seq: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
})).map;

/** How a scalar may be written: plain (even when that changes its meaning), quoted, escaped, or as a block scalar. */
const scalarStyle = fc.constantFrom('plain', 'single', 'double', 'escaped', 'literal');

function renderScalar(v: unknown, style: string, indent: number): string {
  const s = String(v);
  if (style === 'single') return `'${s.replaceAll("'", "''")}'`;
  if (style === 'double') return `"${s}"`;
  if (style === 'escaped') return JSON.stringify(s).replace(/[a-z]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  if (style === 'literal' && indent >= 0 && !s.includes('\n')) return `|-\n${' '.repeat(indent + 2)}${s}`;
  return s;
}

interface Style {
  flowDepth: number;
  styles: string[];
  comments: boolean;
  /** Anchor every collection at these depths, and refer back to the last one now and then. */
  anchors: boolean;
}

/** Renders data as YAML; collections from `flowDepth` down are in flow style. */
function render(v: unknown, indent: number, depth: number, st: Style, refs: { n: number; last?: string }): string {
  const pad = ' '.repeat(indent);
  const style = () => st.styles[depth % st.styles.length]!;
  const flow = (x: unknown): string => {
    if (Array.isArray(x)) return `[${x.map(flow).join(', ')}]`;
    if (x !== null && typeof x === 'object') {
      return `{ ${Object.entries(x)
        .map(([k, y]) => `${renderScalar(k, style(), -1)}: ${flow(y)}`)
        .join(', ')} }`;
    }
    return renderScalar(x, style(), -1);
  };
  const comment = st.comments ? ' # c\t\\ why?' : '';
  const isColl = v !== null && typeof v === 'object';
  if (st.anchors && isColl && refs.last && refs.n++ % 3 === 2) return `*${refs.last}`;
  const anchor = st.anchors && isColl ? `&a${refs.n++} ` : '';
  if (anchor) refs.last = anchor.slice(1, -1);
  if (depth >= st.flowDepth || !isColl || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0)) {
    return isColl ? `${anchor}${flow(v)}` : renderScalar(v, style(), indent);
  }
  const head = anchor ? ` ${anchor.trimEnd()}` : '';
  if (Array.isArray(v)) {
    return (
      head +
      v
        .map((item) => {
          const body = render(item, indent + 2, depth + 1, st, refs);
          return `${pad}-${body.startsWith('\n') || body.startsWith(' &') ? body : ` ${body.trimStart()}`}${comment}`;
        })
        .join('\n')
        .replace(/^/, '\n')
    );
  }
  return (
    head +
    Object.entries(v as Record<string, unknown>)
      .map(([k, item]) => {
        const body = render(item, indent + 2, depth + 1, st, refs);
        const sep = body.startsWith('\n') || body.startsWith(' &') ? body : ` ${body}${comment}`;
        return `${pad}${renderScalar(k, style(), -1)}:${sep}`;
      })
      .join('\n')
      .replace(/^/, '\n')
  );
}

/** A whole YAML text: a tree in some style, maybe a `---` marker, merge keys, CRLF line ends. */
export const yamlDocument = fc
  .record({
    data: tree,
    flowDepth: fc.integer({ min: 0, max: 4 }),
    styles: fc.array(scalarStyle, { minLength: 1, maxLength: 3 }),
    comments: fc.boolean(),
    anchors: fc.boolean(),
    marker: fc.boolean(),
    merge: fc.boolean(),
    crlf: fc.boolean(),
  })
  .map(({ data, flowDepth, styles, comments, anchors, marker, merge, crlf }) => {
    let text = render(data, 0, 0, { flowDepth, styles, comments, anchors }, { n: 0 })
      .replace(/^\n/, '')
      .replace(/^ &a\d+\n/, '');
    if (merge)
      text = `base: &base { vip: 192.0.2.1, port: 80 }\nsvc:\n  <<: *base\n  port: 81\nmore:\n  <<: [*base, { x: 1 }]\n${text}`;
    text = `${marker ? '---\n' : ''}${text}\n`;
    return crlf ? text.replaceAll('\n', '\r\n') : text;
  });

/** Random edits of a text: cuts and insertions of the characters YAML cares about. */
export function corrupted(base: string): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat({ max: base.length }),
    cut: fc.nat({ max: 4 }),
    insert: fc.constantFrom(
      '',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\t',
      '- ',
      ': ',
      '#',
      '"',
      "'",
      '[',
      ']',
      '{',
      '}',
      ',',
      '-',
      'x',
      '0',
      '\n  ',
      '---',
      '&a ',
      '*a',
      '?',
      '? ',
      '<<: ',
      '!!str ',
      '!x ',
      '|',
      '>',
      '\\',
      '%YAML 1.1\n',
      '~',
      'null',
      '\u0000',
      '\uFFFE',
    ),
  });
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let text = base;
    for (const e of edits) {
      const at = Math.min(e.at, text.length);
      text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
    }
    return text;
  });
}
