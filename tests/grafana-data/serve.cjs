// The oracle scripts' one I/O: a JSON array of cases on stdin, a JSON array of answers on stdout.
'use strict';
module.exports = function serve(answer) {
  let input = '';
  process.stdin.on('data', (d) => (input += d));
  process.stdin.on('end', () => {
    let cases;
    try { cases = JSON.parse(input); } catch (e) { process.stderr.write(`bad input: ${e.message}\n`); process.exit(2); }
    process.stdout.write(JSON.stringify(cases.map(answer)));
  });
};
