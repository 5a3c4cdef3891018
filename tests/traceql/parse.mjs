// Parse TraceQL queries with Grafana's lezer grammar (@grafana/lezer-traceql,
// the grammar Grafana's TraceQL editor uses).
//
// stdin:  JSON array of query strings
// stdout: JSON array, one entry per query, same order:
//   {"ok": bool, "errors": [{"from": n, "to": n, "context": "..."}], "tree": "..."}
// An error is any error node (node.type.isError, shown as ⚠ in the tree).
// Exit code: 0 when the batch was processed (even if queries fail to parse),
// 2 on bad input. Used by tests/traceql_grammar.py.
import { parser } from '@grafana/lezer-traceql';

const CONTEXT = 12; // characters of query shown on each side of an error

function snippet(q, from, to) {
  const a = Math.max(0, from - CONTEXT);
  const b = Math.min(q.length, Math.max(to, from + 1) + CONTEXT);
  return (a > 0 ? '…' : '') + q.slice(a, from) + '⟦' + q.slice(from, to) + '⟧' +
    q.slice(to, b) + (b < q.length ? '…' : '');
}

function check(q) {
  const tree = parser.parse(q);
  const errors = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to, context: snippet(q, node.from, node.to) });
      }
    },
  });
  return { ok: errors.length === 0, errors, tree: tree.toString() };
}

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;

let queries;
try {
  queries = JSON.parse(input);
  if (!Array.isArray(queries) || !queries.every((q) => typeof q === 'string')) {
    throw new Error('expected a JSON array of strings');
  }
} catch (e) {
  process.stderr.write(`parse.mjs: bad input: ${e.message}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(queries.map(check)) + '\n');
