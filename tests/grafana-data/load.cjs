// @grafana/data, loadable in plain Node: the one shim both oracle scripts (names.cjs, display.cjs) share.
'use strict';
const Module = require('module');
const load = Module._load;
// @grafana/data's bundle pulls react-use (browser hooks) at load time; nothing here uses it.
Module._load = function (req, ...rest) {
  if (req === 'react-use' || req.startsWith('react-use/')) return {};
  return load.call(this, req, ...rest);
};
globalThis.window = { addEventListener() {}, removeEventListener() {}, location: { href: '', pathname: '/', search: '' },
  localStorage: { getItem() { return null; }, setItem() {}, removeItem() {} } };
if (typeof navigator === 'undefined') globalThis.navigator = { language: 'en-US', languages: ['en-US'] };
const gd = require('@grafana/data');
module.exports = gd;
