#!/usr/bin/env node
// An ODK Collect stand-in for end-to-end tests.
//
// It talks to an OpenRosa server the way ODK Collect does (formList → form download → manifest →
// media → HEAD/POST submission), and fills the form with the ODK Web Forms engine
// (@getodk/xforms-engine), so relevance, cascades, constraints, calculates and repeats are
// evaluated by a real XForms implementation rather than by hand-written XML.
//
//   node collect.mjs --server BASE_URL --form FORM_ID --answers ANSWERS.json
//                    [--attach NAME=PATH ...] [--repeat-post]
//   node collect.mjs --offline XFORM_PATH [--media-dir DIR] --answers ANSWERS.json
//                    [--attach NAME=PATH ...]
//
// ANSWERS.json is an object mapping instance paths to values, applied in order, as a person would
// fill the form:
//   {"/data/g_unit/level": "commune", "/data/q05": ["a", "c"], "/data/tr[2]/trainer_id": "gv01",
//    "/data/photo": "photo.jpg"}
// Strings for inputs and select_one, arrays for select_multiple, the file name for an image/audio
// question (that file must be given with --attach NAME=PATH). A path with `[n]` on an
// uncontrolled repeat adds repeat instances until there are n of them.
//
// Output: one JSON line on stdout:
//   {"status": 201, "instanceID": "uuid:…", "formID": "…", "xml": "<submitted xml>", "body": "…"}
// (with --repeat-post also "repeatStatus" and "repeatBody"; in --offline mode only formID,
// instanceID and xml). Diagnostics go to stderr. Exit status 0 only if every POST returned 201.
//
// Exit statuses: 0 ok, 1 protocol/HTTP failure, 2 usage or answers error, 3 validation
// violations, 4 the engine could not load the form.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { JSDOM } from 'jsdom';

// ---------------------------------------------------------------------------------------------
// Constants that mirror Collect
// ---------------------------------------------------------------------------------------------

// Collect appends `deviceID=collect:<16 chars>` to every URL it requests
// (OpenRosaXmlFetcher / OpenRosaServerInstanceUploader); servers must ignore it.
const DEVICE_ID = 'collect:e2etest000000001';
const USER_AGENT = 'org.odk.collect.android/v2025.1.0 (taphuan e2e harness; @getodk/xforms-engine)';

const NS_FORM_LIST = 'http://openrosa.org/xforms/xformsList';
const NS_MANIFEST = 'http://openrosa.org/xforms/xformsManifest';

// The multipart part name Collect (and every OpenRosa server) uses for the instance XML.
const XML_PART = 'xml_submission_file';

const MEDIA_TYPES = {
  '.csv': 'text/csv',
  '.xml': 'text/xml',
  '.geojson': 'application/geo+json',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.amr': 'audio/amr',
  '.mp4': 'video/mp4',
  '.3gp': 'video/3gpp',
  '.pdf': 'application/pdf',
};

class HarnessError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const log = (...parts) => console.error('[collect]', ...parts);
const mediaType = (name) => MEDIA_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
const md5Hex = (bytes) => createHash('md5').update(bytes).digest('hex');

// ---------------------------------------------------------------------------------------------
// Engine set-up: the Web Forms engine targets browsers, so Node needs two shims
// ---------------------------------------------------------------------------------------------

// (1) The engine uses browser DOM classes (DOMParser, XMLSerializer, Node, …): take jsdom's.
const { window } = new JSDOM('<!doctype html><html><body></body></html>');
for (const name of ['DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'XMLDocument',
  'NodeFilter', 'DocumentFragment', 'Attr', 'Text', 'CDATASection', 'XPathResult']) {
  globalThis[name] ??= window[name];
}
globalThis.window ??= window;
globalThis.document ??= window.document;
// (2) web-tree-sitter, bundled in the engine, detects Node and reads `__dirname`, which ES modules
// lack. Its WASM is inlined as data: URLs, so any value will do.
globalThis.__dirname ??= '/';
// Import only after the shims are in place.
const { loadForm } = await import('@getodk/xforms-engine');

// ---------------------------------------------------------------------------------------------
// HTTP, the Collect way
// ---------------------------------------------------------------------------------------------

/** Append Collect's deviceID query parameter, keeping any query the URL already has. */
function withDeviceId(url) {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}deviceID=${encodeURIComponent(DEVICE_ID)}`;
}

/**
 * Collect's `Date` header: Java pattern "E, dd MMM yyyy hh:mm:ss zz" in English, i.e. a 12-hour
 * clock with no AM/PM. Servers must not validate it; sending it the way Collect does checks that.
 */
function collectDate(now = new Date()) {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n) => String(n).padStart(2, '0');
  const hours12 = now.getUTCHours() % 12 || 12;
  return `${days[now.getUTCDay()]}, ${two(now.getUTCDate())} ${months[now.getUTCMonth()]} `
    + `${now.getUTCFullYear()} ${two(hours12)}:${two(now.getUTCMinutes())}:`
    + `${two(now.getUTCSeconds())} UTC`;
}

/** One request as Collect makes it: deviceID appended, OpenRosa headers, redirects followed. */
async function openRosaRequest(url, { method = 'GET', body } = {}) {
  const target = withDeviceId(url);
  const response = await fetch(target, {
    method,
    body,
    redirect: 'follow',
    headers: {
      'X-OpenRosa-Version': '1.0',
      'User-Agent': USER_AGENT,
      'Date': collectDate(),
      'Accept-Encoding': 'gzip',
    },
  });
  log(method, target, '→', response.status);
  return response;
}

/** Collect accepts a GET only with status 200 (OpenRosaClient / OkHttpConnection). */
async function getOk(url, what) {
  const response = await openRosaRequest(url);
  if (response.status !== 200) {
    throw new HarnessError(`${what}: GET ${url} returned ${response.status}, expected 200\n`
      + (await response.text()).slice(0, 2000));
  }
  return response;
}

/**
 * formList and manifest: Collect rejects them unless Content-Type contains text/xml and an
 * X-OpenRosa-Version header is present (its value is not checked).
 */
function checkOpenRosaXmlResponse(response, what) {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.includes('text/xml')) {
    throw new HarnessError(`${what}: Content-Type is "${contentType}", Collect requires text/xml`);
  }
  if (!response.headers.has('x-openrosa-version')) {
    throw new HarnessError(`${what}: no X-OpenRosa-Version header, Collect rejects the response`);
  }
}

function parseXml(text, what) {
  const doc = new window.DOMParser().parseFromString(text, 'text/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) {
    throw new HarnessError(`${what}: not well-formed XML:\n${text.slice(0, 2000)}`);
  }
  return doc;
}

/** Text of the first child element `name` in namespace `ns` (Collect ignores other namespaces). */
function childText(element, ns, name) {
  for (const child of element.children) {
    if (child.namespaceURI === ns && child.localName === name) return child.textContent.trim();
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Form discovery and download
// ---------------------------------------------------------------------------------------------

/** GET {server}/formList and return the entry for formId (Kxml2OpenRosaResponseParser rules). */
async function fetchFormListEntry(server, formId) {
  const url = `${server.replace(/\/+$/, '')}/formList`;
  const response = await getOk(url, 'formList');
  checkOpenRosaXmlResponse(response, 'formList');
  const doc = parseXml(await response.text(), 'formList');
  const root = doc.documentElement;
  if (root.namespaceURI !== NS_FORM_LIST || root.localName !== 'xforms') {
    throw new HarnessError(`formList: root is {${root.namespaceURI}}${root.localName}, `
      + `expected {${NS_FORM_LIST}}xforms`);
  }
  const entries = [];
  for (const xform of root.getElementsByTagNameNS(NS_FORM_LIST, 'xform')) {
    const entry = {
      formID: childText(xform, NS_FORM_LIST, 'formID'),
      name: childText(xform, NS_FORM_LIST, 'name'),
      version: childText(xform, NS_FORM_LIST, 'version') || null,
      hash: childText(xform, NS_FORM_LIST, 'hash'),
      downloadUrl: childText(xform, NS_FORM_LIST, 'downloadUrl'),
      manifestUrl: childText(xform, NS_FORM_LIST, 'manifestUrl') || null,
    };
    // Collect rejects the whole list if any entry lacks formID, name or downloadUrl.
    for (const required of ['formID', 'name', 'downloadUrl']) {
      if (!entry[required]) {
        throw new HarnessError(`formList: an <xform> has no ${required}; Collect rejects the list`);
      }
    }
    entries.push(entry);
  }
  const entry = entries.find((e) => e.formID === formId);
  if (!entry) {
    throw new HarnessError(`formList: form ${formId} not listed (listed: `
      + `${entries.map((e) => e.formID).join(', ') || 'none'})`);
  }
  // The hash is optional in the list but required at download ("Missing form hash").
  if (!entry.hash?.startsWith('md5:')) {
    throw new HarnessError(`formList: ${formId} has hash "${entry.hash}", expected md5:<hex>`);
  }
  return entry;
}

/** Download a file and check it against an `md5:<hex>` hash from the server. */
async function downloadVerified(url, hash, what) {
  const response = await getOk(url, what);
  const bytes = Buffer.from(await response.arrayBuffer());
  const actual = `md5:${md5Hex(bytes)}`;
  if (actual !== hash) {
    throw new HarnessError(`${what}: ${hash} announced but the ${bytes.length} bytes served `
      + `from ${url} hash to ${actual}`);
  }
  return bytes;
}

/** GET the manifest and download every media file it lists, verifying each md5. */
async function fetchMedia(manifestUrl) {
  const media = new Map();
  if (!manifestUrl) return media;
  const response = await getOk(manifestUrl, 'manifest');
  checkOpenRosaXmlResponse(response, 'manifest');
  const doc = parseXml(await response.text(), 'manifest');
  const root = doc.documentElement;
  if (root.namespaceURI !== NS_MANIFEST || root.localName !== 'manifest') {
    throw new HarnessError(`manifest: root is {${root.namespaceURI}}${root.localName}, `
      + `expected {${NS_MANIFEST}}manifest`);
  }
  for (const file of root.getElementsByTagNameNS(NS_MANIFEST, 'mediaFile')) {
    const filename = childText(file, NS_MANIFEST, 'filename');
    const hash = childText(file, NS_MANIFEST, 'hash');
    const downloadUrl = childText(file, NS_MANIFEST, 'downloadUrl');
    if (!filename || !hash || !downloadUrl) {
      throw new HarnessError(`manifest: a <mediaFile> lacks filename, hash or downloadUrl`);
    }
    media.set(filename, await downloadVerified(downloadUrl, hash, `media ${filename}`));
  }
  return media;
}

/** Read the primary instance root's id and version, which Collect trusts over the form list. */
function formIdentity(xformXml) {
  const doc = parseXml(xformXml, 'XForm');
  const instance = doc.getElementsByTagNameNS('http://www.w3.org/2002/xforms', 'instance')[0];
  const root = instance?.firstElementChild;
  if (!root) throw new HarnessError('XForm: no primary instance');
  const version = root.getAttribute('version')
    ?? root.getAttributeNS('http://openrosa.org/xforms', 'version');
  return { id: root.getAttribute('id'), version: version || null };
}

// ---------------------------------------------------------------------------------------------
// Filling the form with the engine
// ---------------------------------------------------------------------------------------------

/**
 * Load the XForm. Form attachments are jr:// URLs (jr://file-csv/x.csv, jr://images/y.png, …);
 * Collect resolves them to the files downloaded from the manifest by file name, and so do we.
 */
async function loadXForm(xformXml, media) {
  const result = await loadForm(xformXml, {
    fetchFormAttachment: async (url) => {
      const name = decodeURIComponent(new URL(String(url)).pathname.split('/').pop());
      const bytes = media.get(name);
      if (!bytes) {
        log(`form attachment ${url} is not among the downloaded media`);
        return new Response(`missing ${name}`, { status: 404 });
      }
      return new Response(bytes, { status: 200, headers: { 'Content-Type': mediaType(name) } });
    },
  });
  if (result.status === 'failure') {
    throw new HarnessError(`engine could not load the form: ${result.error?.message}`, 4);
  }
  if (result.status === 'warning') log('engine warnings:', JSON.stringify(result.warnings));
  // preloadProperties.deviceID fills jr:preload="property" deviceid, as Collect does.
  return result.createInstance({ preloadProperties: { deviceID: DEVICE_ID } }).root;
}

/** Index every node of the current tree by reference (the tree changes as answers are set). */
function indexNodes(root) {
  const index = new Map();
  const walk = (node) => {
    index.set(node.currentState.reference, node);
    for (const child of node.currentState.children ?? []) walk(child);
  };
  walk(root);
  return index;
}

/**
 * Make sure every repeat instance named in `path` exists. "/data/tr[2]/trainer_id" needs two
 * instances of the repeat /data/tr. Uncontrolled repeats get instances added ("Add group" in
 * Collect); a controlled repeat (jr:count) only grows through the answer that drives its count.
 */
function ensureRepeatInstances(root, path) {
  const segments = path.split('/').slice(1);
  let prefix = '';
  for (const segment of segments) {
    const match = /^(.*)\[(\d+)\]$/.exec(segment);
    if (match) {
      const rangeRef = `${prefix}/${match[1]}`;
      const wanted = Number(match[2]);
      const range = indexNodes(root).get(rangeRef);
      if (!range?.nodeType?.startsWith('repeat-range')) {
        throw new HarnessError(`${path}: ${rangeRef} is not a repeat`, 2);
      }
      const existing = range.currentState.children.length;
      if (existing < wanted) {
        if (range.nodeType !== 'repeat-range:uncontrolled') {
          throw new HarnessError(`${path}: ${rangeRef} has ${existing} instances and its count `
            + `is controlled by the form (jr:count); answer the count question first`, 2);
        }
        range.addInstances(existing - 1, wanted - existing);
      }
    }
    prefix = `${prefix}/${segment}`;
  }
}

function describeOptions(node) {
  return node.currentState.valueOptions.map((o) => o.value).join(', ') || '(none)';
}

/** Answer one question, checking what a person in Collect could and could not do. */
function answer(root, path, value, attachments) {
  ensureRepeatInstances(root, path);
  const node = indexNodes(root).get(path);
  if (!node) throw new HarnessError(`${path}: no such node in the form`, 2);
  const state = node.currentState;
  if (!state.relevant) throw new HarnessError(`${path}: not relevant, Collect would skip it`, 2);
  if (state.readonly) throw new HarnessError(`${path}: read-only, cannot be answered`, 2);

  switch (node.nodeType) {
    case 'select': {
      const multiple = node.selectType === 'select';
      if (multiple !== Array.isArray(value)) {
        throw new HarnessError(`${path}: select_${multiple ? 'multiple' : 'one'} needs `
          + `${multiple ? 'an array' : 'a string'}, got ${JSON.stringify(value)}`, 2);
      }
      const values = multiple ? value : [value];
      for (const v of values) {
        if (node.getValueOption(String(v)) == null) {
          throw new HarnessError(`${path}: "${v}" is not among the choices shown now: `
            + describeOptions(node), 2);
        }
      }
      if (multiple) node.selectValues(values.map(String));
      else node.selectValue(String(value));
      // The engine keeps a select_multiple's values in choice order (which `randomize` may
      // shuffle), so compare as sets.
      const got = [...node.currentState.value];
      if (JSON.stringify([...got].sort()) !== JSON.stringify(values.map(String).sort())) {
        throw new HarnessError(`${path}: set ${JSON.stringify(values)}, engine has `
          + JSON.stringify(got), 2);
      }
      return;
    }
    case 'upload': {
      // Collect saves the captured file in the instance folder and writes its file name into the
      // XML; the same name is used for the multipart part when the instance is sent.
      const file = attachments.get(value);
      if (!file) throw new HarnessError(`${path}: "${value}" was not given with --attach`, 2);
      node.setValue(new File([file.bytes], value, { type: mediaType(value) }));
      if (node.currentState.instanceValue !== value) {
        throw new HarnessError(`${path}: engine names the file `
          + `"${node.currentState.instanceValue}", expected "${value}"`, 2);
      }
      return;
    }
    case 'input':
    case 'range':
      if (Array.isArray(value) || (value !== null && typeof value === 'object')) {
        throw new HarnessError(`${path}: needs a string or number, got ${JSON.stringify(value)}`, 2);
      }
      node.setValue(value === null ? null : String(value));
      if (value !== null && node.currentState.instanceValue !== String(value)) {
        throw new HarnessError(`${path}: set ${JSON.stringify(value)}, engine stores `
          + JSON.stringify(node.currentState.instanceValue), 2);
      }
      return;
    default:
      throw new HarnessError(`${path}: a ${node.nodeType} node cannot be answered`, 2);
  }
}

/** Collect refuses to finalize a form with required/constraint violations: so do we. */
function checkViolations(root) {
  const violations = root.validationState.violations;
  if (violations.length === 0) return;
  for (const v of violations) {
    log(`violation ${v.reference}: ${v.violation.condition}`
      + (v.violation.message ? ` (${v.violation.message.asString})` : ''));
  }
  throw new HarnessError(`${violations.length} validation violation(s); the form cannot be `
    + 'finalized', 3);
}

async function fillForm(root, answers, attachments) {
  for (const [path, value] of Object.entries(answers)) answer(root, path, value, attachments);
  checkViolations(root);
  // Finalizing: the engine serialises the instance as Collect would (non-relevant nodes
  // dropped, meta/instanceID kept).
  const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
  if (payload.status !== 'ready') {
    throw new HarnessError(`engine payload status ${payload.status}`, 3);
  }
  const data = payload.data[0];
  const xml = await data.get(XML_PART).text();
  // The engine puts each instance attachment in the payload under the name the XML uses: they
  // must be exactly the files given with --attach that the answers refer to.
  const engineFiles = [...data.keys()].filter((k) => k !== XML_PART);
  for (const name of engineFiles) {
    if (!attachments.has(name)) throw new HarnessError(`engine attached unknown file ${name}`);
  }
  return { xml, submissionMeta: payload.submissionMeta, engineFiles };
}

function instanceIdOf(xml) {
  const doc = parseXml(xml, 'submission');
  const ids = doc.getElementsByTagName('instanceID');
  return ids.length ? ids[0].textContent.trim() : null;
}

// ---------------------------------------------------------------------------------------------
// Submission
// ---------------------------------------------------------------------------------------------

/**
 * HEAD before POST (OpenRosaServerInstanceUploader): the server must answer exactly 204 and may
 * advertise X-OpenRosa-Accept-Content-Length. Collect aborts on 2xx other than 204 and on 401;
 * we require 204, since that is what a conforming server sends.
 */
async function headSubmission(url) {
  const response = await openRosaRequest(url, { method: 'HEAD' });
  if (response.status !== 204) {
    throw new HarnessError(`HEAD ${url} returned ${response.status}, expected 204`);
  }
  // Collect itself does not look at this header on HEAD, but the OpenRosa spec requires it on
  // every OpenRosa response, so the harness is stricter here.
  if (!response.headers.has('x-openrosa-version')) {
    throw new HarnessError(`HEAD ${url}: no X-OpenRosa-Version header`);
  }
  const limit = Number(response.headers.get('x-openrosa-accept-content-length') ?? 10_000_000);
  return Number.isFinite(limit) && limit > 0 ? limit : 10_000_000;
}

/**
 * POST multipart/form-data: `xml_submission_file` (text/xml) plus one part per attachment whose
 * part name and file name are both the name the XML references.
 */
async function postSubmission(url, xml, files, maxBytes) {
  const form = new FormData();
  form.append(XML_PART, new Blob([xml], { type: 'text/xml' }), 'submission.xml');
  let total = Buffer.byteLength(xml);
  for (const [name, file] of files) {
    form.append(name, new Blob([file.bytes], { type: mediaType(name) }), name);
    total += file.bytes.length;
  }
  // Collect splits an upload larger than the advertised limit into several POSTs; the harness
  // never needs to, so it only checks the limit.
  if (total > maxBytes) {
    throw new HarnessError(`submission is ${total} bytes, server accepts ${maxBytes}`);
  }
  const response = await openRosaRequest(url, { method: 'POST', body: form });
  return { status: response.status, body: await response.text() };
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      'server': { type: 'string' },
      'form': { type: 'string' },
      'answers': { type: 'string' },
      'attach': { type: 'string', multiple: true, default: [] },
      'repeat-post': { type: 'boolean', default: false },
      'offline': { type: 'string' },
      'media-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values.answers || (!values.offline && (!values.server || !values.form))) {
    throw new HarnessError('usage: collect.mjs (--server URL --form ID | --offline XFORM '
      + '[--media-dir DIR]) --answers FILE.json [--attach NAME=PATH ...] [--repeat-post]', 2);
  }
  let answers;
  try {
    answers = JSON.parse(readFileSync(values.answers, 'utf8'));
  } catch (error) {
    throw new HarnessError(`answers ${values.answers}: ${error.message}`, 2);
  }
  if (answers === null || typeof answers !== 'object' || Array.isArray(answers)) {
    throw new HarnessError('answers: expected a JSON object {path: value}', 2);
  }
  const attachments = new Map();
  for (const spec of values.attach) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new HarnessError(`--attach ${spec}: expected NAME=PATH`, 2);
    const name = spec.slice(0, eq);
    attachments.set(name, { bytes: readFileSync(spec.slice(eq + 1)) });
  }
  return { ...values, answers, attachments };
}

/** Offline: fill a local XForm with media from a directory and print the XML (for debugging). */
async function runOffline(args) {
  const xformXml = readFileSync(args.offline, 'utf8');
  const media = new Map();
  if (args['media-dir']) {
    if (!existsSync(args['media-dir'])) {
      throw new HarnessError(`--media-dir ${args['media-dir']}: no such directory`, 2);
    }
    for (const name of readdirSync(args['media-dir'])) {
      media.set(name, readFileSync(join(args['media-dir'], name)));
    }
  }
  const root = await loadXForm(xformXml, media);
  const { xml } = await fillForm(root, args.answers, args.attachments);
  const formID = formIdentity(xformXml).id ?? basename(args.offline, '.xml');
  return { formID, instanceID: instanceIdOf(xml), xml };
}

async function runOnline(args) {
  const server = args.server.replace(/\/+$/, '');
  const entry = await fetchFormListEntry(server, args.form);
  const xformBytes = await downloadVerified(entry.downloadUrl, entry.hash, 'form download');
  const xformXml = xformBytes.toString('utf8');
  // Collect identifies a form by the id/version inside the XML, so they must match the list.
  const identity = formIdentity(xformXml);
  if (identity.id !== entry.formID || (identity.version ?? null) !== (entry.version ?? null)) {
    throw new HarnessError(`form download: XML says id=${identity.id} version=${identity.version}`
      + `, formList says ${entry.formID} ${entry.version}`);
  }
  const media = await fetchMedia(entry.manifestUrl);
  log(`form ${entry.formID} v${entry.version}, media: ${[...media.keys()].join(', ') || '-'}`);

  const root = await loadXForm(xformXml, media);
  const { xml, submissionMeta, engineFiles } = await fillForm(root, args.answers, args.attachments);
  const instanceID = instanceIdOf(xml);

  // Collect posts to the form's <submission action> if it has one, else {server}/submission.
  const submissionUrl = submissionMeta.submissionAction?.href ?? `${server}/submission`;
  // Collect sends every file in the instance folder: here, every --attach file. Each one the XML
  // references must be among them (fillForm checked that).
  log(`instance ${instanceID} references files: ${engineFiles.join(', ') || '-'}`);
  const files = [...args.attachments];
  const maxBytes = await headSubmission(submissionUrl);
  const first = await postSubmission(submissionUrl, xml, files, maxBytes);
  const result = { status: first.status, instanceID, formID: entry.formID, xml, body: first.body };
  if (args['repeat-post']) {
    // Collect re-sends an identical instance when a previous upload's response was lost.
    const second = await postSubmission(submissionUrl, xml, files, maxBytes);
    result.repeatStatus = second.status;
    result.repeatBody = second.body;
  }
  return result;
}

async function main() {
  const args = parseCommandLine();
  const result = args.offline ? await runOffline(args) : await runOnline(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const statuses = [result.status, result.repeatStatus].filter((s) => s !== undefined);
  // Collect counts only 201/202 as success; our server is expected to answer 201.
  return statuses.every((s) => s === 201) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof HarnessError)) throw error;
  log(`error: ${error.message}`);
  process.exitCode = error.exitCode;
}
