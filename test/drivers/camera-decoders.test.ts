/** The camera driver's pure parts on fixtures: digest auth, the multipart parser, the vendor decoders. */
import { describe, expect, it } from 'vitest';
import { DigestSession, parseChallenge, verifyDigest } from '../../drivers/camera/http-auth.js';
import { boundaryOf, MultipartParser, type Part } from '../../drivers/camera/multipart-parser.js';
import { decodeHikvision } from '../../drivers/camera/hikvision-decode.js';
import { decodeDahua } from '../../drivers/camera/dahua-decode.js';
import { eventPart, heartbeatPart, hikvisionAlert, xmlBomb } from '../../scripts/simulators/camera-framing.js';

const creds = { user: 'Mufasa', password: 'Circle Of Life' };

describe('digest auth', () => {
  it("matches RFC 2617's worked example", () => {
    const header =
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
      'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"';
    expect(verifyDigest(header, 'GET', creds, 'testrealm@host.com', 'dcd98b7102dd2f0e8b11d0f600bfb0c093')).toBe(true);
    expect(
      verifyDigest(
        header,
        'GET',
        { ...creds, password: 'x' },
        'testrealm@host.com',
        'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      ),
    ).toBe(false);
  });

  it('answers the challenge the camera sent, Digest over Basic, with an increasing nc', () => {
    const c = parseChallenge([
      'Basic realm="cam"',
      'Digest realm="IP Camera(D8382)", domain="::", qop="auth", nonce="abc:1685", opaque="", algorithm="MD5", stale="FALSE"',
    ])!;
    expect(c.scheme).toBe('digest');
    expect(c.params).toMatchObject({ realm: 'IP Camera(D8382)', nonce: 'abc:1685', qop: 'auth', opaque: '' });
    const s = new DigestSession(creds);
    expect(s.header('GET', '/a')).toBeNull(); // no challenge yet: the first request goes bare
    s.challenged(c);
    const h1 = s.header('GET', '/ISAPI/Event/notification/alertStream')!;
    const h2 = s.header('GET', '/x')!;
    expect(h1).toContain('nc=00000001');
    expect(h2).toContain('nc=00000002');
    expect(verifyDigest(h1, 'GET', creds, 'IP Camera(D8382)', 'abc:1685')).toBe(true);
    s.challenged(parseChallenge('Basic realm="Device_CGI"')!);
    expect(s.header('GET', '/')).toBe(`Basic ${Buffer.from('Mufasa:Circle Of Life').toString('base64')}`);
  });
});

function parse(text: string, chunk: number, maxPartBytes = 4096) {
  const parts: Part[] = [];
  const problems: string[] = [];
  const p = new MultipartParser(
    'myboundary',
    { maxPartBytes, maxHeaderBytes: 512 },
    (x) => parts.push(x),
    (k) => problems.push(k),
  );
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) p.push(bytes.subarray(i, i + chunk));
  return { parts: parts.map((x) => x.body.toString()), problems, p };
}

describe('multipart parser', () => {
  const stream =
    heartbeatPart('dahua') +
    eventPart('dahua', { code: 'VideoMotion', state: 'Start', channel: 0, region: 'R1' }) +
    heartbeatPart('dahua', '\n') +
    // A Content-Length far too long, then one too short: the boundary wins both times.
    '--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\nCode=AlarmLocal;action=Start;index=1\r\n' +
    '--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nCode=AlarmLocal;action=Stop;index=1\r\n' +
    // No CRLF before the boundary, no Content-Length at all.
    '--myboundary\r\nContent-Type: text/plain\r\n\r\nHeartbeat--myboundary\r\nContent-Type: text/plain\r\n\r\nHeartbeat\r\n';

  it('frames every part whatever the chunking: byte by byte, 7 bytes, all at once', () => {
    const expected = parse(stream, stream.length).parts;
    // The last part has no Content-Length: it ends only at the next boundary, which has not come yet.
    expect(expected).toHaveLength(6);
    expect(expected[3]).toBe('Code=AlarmLocal;action=Start;index=1');
    expect(expected[4]).toBe('Code=AlarmLocal;action=Stop;index=1');
    expect(expected[5]).toBe('Heartbeat');
    for (const chunk of [1, 7, 64])
      expect({ chunk, parts: parse(stream, chunk).parts }).toEqual({ chunk, parts: expected });
  });

  it('cuts a part over the cap, counts it, and reads the next one; holds no more than the cap', () => {
    const big = `--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: 100000000\r\n\r\n${'x'.repeat(20000)}\r\n`;
    const endless = `--myboundary\r\nContent-Type: image/jpeg\r\n\r\n${'y'.repeat(20000)}`;
    const r = parse(big + heartbeatPart('dahua') + endless, 1000);
    expect(r.parts).toEqual(['Heartbeat']);
    expect(r.p.counters.oversize).toBe(2);
    expect(r.p.buffered).toBeLessThan(4096 + 512);
    expect(r.problems).toEqual(['oversize', 'oversize']);
  });

  it('reads the boundary from Content-Type, quoted or with dashes, and refuses what is not multipart', () => {
    expect(boundaryOf('multipart/mixed; boundary=boundary')).toBe('boundary');
    expect(boundaryOf('multipart/x-mixed-replace; boundary="--myboundary"')).toBe('myboundary');
    expect(boundaryOf('text/html')).toBeNull();
    expect(boundaryOf(undefined)).toBeNull();
  });
});

describe('vendor decoders', () => {
  const pulses = new Set(['linedetection', 'fielddetection', 'crosslinedetection', 'crossregiondetection']);
  const hik = (xml: string) => decodeHikvision('application/xml', Buffer.from(xml), pulses);

  it('Hikvision: namespaces, empty NVR elements, the heartbeat, JSON alerts, no entities', () => {
    const nvr =
      '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><protocolType>HTTP</protocolType>' +
      '<channelID/><dynChannelID>6</dynChannelID><dateTime>2022-11-20T10:00:00+8:00</dateTime><activePostCount/>' +
      '<eventType>VMD</eventType><eventState>active</eventState></EventNotificationAlert>';
    expect(hik(nvr)).toMatchObject({ kind: 'event', code: 'VMD', state: 'start', channel: 6 });
    expect(hik(hikvisionAlert({ code: 'videoloss', state: 'inactive', channel: 1 }, 0))).toEqual({ kind: 'heartbeat' });
    expect(
      hik('<a:EventNotificationAlert xmlns:a="x"><a:eventType>heartBeat</a:eventType></a:EventNotificationAlert>'),
    ).toEqual({
      kind: 'heartbeat',
    });
    expect(hik(hikvisionAlert({ code: 'IO', state: 'active', channel: 3 }))).toMatchObject({ code: 'IO', channel: 3 });
    expect(hik(hikvisionAlert({ code: 'linedetection', state: 'inactive', channel: 1 })).kind).toBe('ignored');
    expect(hik('{"eventType":"fielddetection","eventState":"active","channelID":2,"dateTime":"x"}')).toMatchObject({
      state: 'pulse',
      channel: 2,
    });
    expect(hik(xmlBomb())).toMatchObject({ kind: 'ignored', hostile: true });
    expect(hik('<e><eventType>&lt;b&gt;</eventType><eventState>active</eventState></e>')).toMatchObject({
      code: '<b>',
    });
  });

  it('Dahua: heartbeat, Start/Stop/Pulse, 0-based index, multi-line data', () => {
    const dh = (t: string) => decodeDahua(Buffer.from(t), pulses);
    expect(dh('Heartbeat')).toEqual({ kind: 'heartbeat' });
    expect(dh('Code=VideoMotion;action=Start;index=0;data={\n "RegionName" : [ "Region1" ]\n}')).toMatchObject({
      code: 'VideoMotion',
      state: 'start',
      channel: 1,
      region: 'Region1',
    });
    expect(dh('Code=CrossLineDetection;action=Start;index=0;data={"Name":"Rule1","UTC":1620477656}')).toMatchObject({
      state: 'pulse',
      region: 'Rule1',
      cameraTime: '2021-05-08T12:40:56.000Z',
    });
    expect(dh('Code=CrossLineDetection;action=Stop;index=0').kind).toBe('ignored');
    expect(dh('Code=AlarmLocal;action=Stop;index=1')).toMatchObject({ state: 'stop', channel: 2 });
    expect(dh('Code=X;action=Start;index=0;data={broken')).toMatchObject({ kind: 'event', region: null });
    expect(dh('<html>login</html>').kind).toBe('ignored');
  });
});
