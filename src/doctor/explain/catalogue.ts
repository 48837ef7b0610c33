/**
 * The well-known etcd TLS failures, as data: how each one is worded across etcd, Go, curl, OpenSSL and
 * Kubernetes versions, what causes it and how to fix it. explain.ts matches log lines against it; `probe`
 * and `check` name what they observe by id (`CatalogueId`) and `explain` renders the same text.
 *
 * Pure data. Wordings come from etcd's and Go's sources and from runs of Debian's etcd 3.4.23 (go1.19);
 * test/fixtures/logs/README.md says which line came from where.
 */

/** One failure. Text may hold `{fact}` (or `{fact|flag}`), and `[[...]]` dropped unless all its facts were captured. */
export interface CatalogueEntry {
  /** Stable kebab-case name; never reused for a different failure. */
  readonly id: string;
  readonly title: string;
  /** Every known wording. Named groups capture facts. Matched against the line with JSON/%q escapes undone. */
  readonly matchers: readonly RegExp[];
  readonly cause: string;
  readonly fix: string;
  readonly seeAlso: readonly string[];
  /** Facts this entry's text uses, each with the words shown when the line does not carry it. */
  readonly captures?: Readonly<Record<string, string>>;
}

const ISSUE = 'https://github.com/etcd-io/etcd/issues/';
const K8S = 'https://github.com/kubernetes/kubernetes/';
const KTHW = 'https://github.com/kelseyhightower/kubernetes-the-hard-way/issues/';

// Order matters: an entry that refines another comes before it, and catch-alls come last, so the first
// explanation of a line is the most specific one.
export const CATALOGUE = [
  {
    id: 'server-cert-missing-clientauth',
    title: "A certificate presented to etcd lacks clientAuth (usually etcd's own server certificate, used by its gRPC gateway)",
    matchers: [
      // "client's certificate" (older Go), "client certificate" (go1.19, Debian's etcd 3.4.23)
      /tls: failed to verify client(?:'s)? certificate: x509: certificate specifies an incompatible key usage/,
      // newer Go says only "failed to verify certificate", which clients print too: needs the server's "rejected connection"
      /rejected connection.*tls: failed to verify certificate: x509: certificate specifies an incompatible key usage/,
    ],
    cause:
      'etcd refused a TLS connection from {remote}: the certificate the caller presented does not allow the clientAuth ' +
      "extended key usage. When that address is the member's own address or loopback and the line repeats about every " +
      "second, the caller is etcd itself: its built-in gRPC gateway dials the local client listener and presents the server " +
      'certificate (--cert-file) as its client certificate, because --client-cert-auth or --trusted-ca-file makes etcd ' +
      'demand one. /health keeps answering, but JSON calls to /v3/* fail (code 14).',
    fix:
      'Issue the server certificate with both serverAuth and clientAuth (etcd-tls gen does so for every member) and ' +
      'overwrite the files in place: etcd re-reads its certificate on every handshake. On etcd 3.5+ you can instead give ' +
      'the gateway its own client certificate with --client-cert-file/--client-key-file. If the caller is a real client, ' +
      'its client certificate needs clientAuth.',
    seeAlso: [
      `${ISSUE}9785`,
      `${ISSUE}9398`,
      'https://github.com/kubermatic/kubermatic/pull/5261',
      'https://github.com/voxpupuli/puppet-k8s/pull/132',
    ],
    captures: { remote: 'a client' },
  },
  {
    id: 'eku-incompatible',
    title: "A certificate's extended key usage does not allow the role it is used in",
    matchers: [
      /certificate specifies an incompatible key usage/,
      // OpenSSL's words for the same check (older releases said "unsupported")
      /(?:unsuitable|unsupported) certificate purpose/,
    ],
    cause:
      'Go checks extended key usage along the whole chain: a certificate a server presents needs serverAuth, one a client ' +
      'presents needs clientAuth, and every CA above it must carry no EKU at all or a list that includes that usage. etcd ' +
      'peer certificates both listen and dial, so they need serverAuth and clientAuth; the server certificate needs ' +
      "clientAuth too when the gRPC gateway presents it. In a server's `rejected connection` line the caller's certificate " +
      "is at fault; in a client's `authentication handshake failed` line the server's.",
    fix:
      'Look at the extended key usage of the leaf and of each CA (`openssl x509 -noout -ext extendedKeyUsage -in FILE`): ' +
      'peers need serverAuth+clientAuth, servers serverAuth (+clientAuth for the gateway), clients clientAuth; a CA that ' +
      'carries an EKU list must be re-issued without one. `etcd-tls check` lints this offline.',
    seeAlso: [`${ISSUE}11736`, `${ISSUE}19799`, `${ISSUE}13630`],
  },
  {
    id: 'peer-source-ip-not-in-san',
    title: 'A member dialed from an address its peer certificate does not cover',
    matchers: [/rejected connection.*x509: certificate is valid for (?<validFor>.+?), not (?<wanted>[^\s",)]+)/],
    cause:
      "etcd's peer listener checks the dialing member's certificate against the TCP source address of the connection, not " +
      'against the address that member advertises. The connection came from {wanted}, but the certificate covers only ' +
      '{validFor}. NAT, a second interface or loopback aliases make the two differ: on Linux a member advertising ' +
      '127.0.0.2 dials the others from 127.0.0.1.',
    fix:
      "Re-issue each member's peer certificate with IP SANs for every address it can dial from ({wanted} here) as well as " +
      'its advertised peer URL host, or start etcd with --experimental-peer-skip-client-san-verification ' +
      '(3.6: --peer-skip-client-san-verification).',
    seeAlso: [`${ISSUE}10929`, `${ISSUE}7544`],
    captures: { wanted: 'the source address', validFor: 'other addresses' },
  },
  {
    id: 'san-mismatch',
    title: 'The certificate does not cover the host name or address it was checked against',
    matchers: [
      /x509: certificate is valid for (?<validFor>.+?), not (?<wanted>[^\s",)]+)/,
      /no alternative certificate subject name matches target host name '(?<wanted>[^']+)'/,
      /certificate subject name '(?<validFor>[^']+)' does not match target host name '(?<wanted>[^']+)'/,
      /\b(?:hostname|IP address) mismatch\b/,
    ],
    cause:
      'The certificate is valid for {validFor}, but it was checked against {wanted}. A client checks the server ' +
      'certificate against the host in the URL it dials (--endpoints, --etcd-servers, a member\'s advertised client or ' +
      "peer URL); an etcd peer listener checks the dialing member's certificate against the connection's source address.",
    fix:
      'Re-issue the certificate with {wanted} in its SANs (addresses as IP SANs, names as DNS SANs), or dial a name or ' +
      'address the certificate already has. Peer certificates need the advertised peer URL host and every address the ' +
      'member dials from. `etcd-tls gen` derives the SANs from the cluster spec.',
    seeAlso: [`${ISSUE}7544`, `${ISSUE}15949`],
    captures: { validFor: 'other names', wanted: 'the host that was dialed' },
  },
  {
    id: 'peer-dns-san-lookup',
    title: "A member's certificate has only DNS names, and DNS does not tie the dialer's address to them",
    matchers: [/tls: "(?<remoteIp>[^"]+)" does not match any of DNSNames \[(?<dnsNames>[^\]]*)\]?(?: \((?<lookup>[^)]*)\))?/],
    cause:
      'The connection came from {remoteIp}. The dialing member\'s certificate has no IP SAN for it, only DNS names ' +
      '({dnsNames}), so etcd reverse-resolved {remoteIp} and forward-resolved each name, and nothing matched' +
      '[[ ({lookup})]]. Pod networks, NAT and gateways make this common.',
    fix:
      "Add the member's IP addresses, including the one it dials from, as IP SANs; or make forward and reverse DNS agree " +
      'for those names; or start etcd with --experimental-peer-skip-client-san-verification.',
    seeAlso: [`${ISSUE}8268`, `${ISSUE}9575`, `${ISSUE}10929`],
    captures: { remoteIp: 'the dialing address', dnsNames: 'the names in the certificate' },
  },
  {
    id: 'no-ip-sans',
    title: 'Connected by IP address to a certificate that has no IP SANs',
    matchers: [/x509: cannot validate certificate for (?<host>\S+) because it doesn't contain any IP SANs/],
    cause:
      'The client dialed {host} by IP address, so Go requires a matching IP SAN, but the certificate carries only DNS ' +
      'names. curl reports the same case as `no alternative certificate subject name matches target host name`.',
    fix: 'Re-issue the certificate with IP SAN {host}, or dial a DNS name the certificate contains.',
    seeAlso: [`${ISSUE}8328`, `${ISSUE}917`],
    captures: { host: 'an IP address' },
  },
  {
    id: 'unknown-authority',
    title: 'A certificate was signed by a CA the other side does not trust',
    matchers: [
      /x509: certificate signed by unknown authority(?:.*?candidate authority certificate "(?<candidate>[^"]+)")?/,
      /remote error: tls: unknown certificate authority/,
      /alert unknown ca\b/,
      /unable to get local issuer certificate/,
      /self[- ]signed certificate(?: in certificate chain)?/,
    ],
    cause:
      "The side reporting this does not trust the CA that signed the other side's certificate. In an etcd " +
      '`rejected connection` line (failed to verify client certificate), --trusted-ca-file or --peer-trusted-ca-file ' +
      "lacks the CA of the caller's certificate; on a client, its CA file (etcdctl --cacert or ETCDCTL_CACERT, " +
      'kube-apiserver --etcd-cafile, curl --cacert) lacks the CA that signed the server certificate. `remote error: tls: ' +
      "unknown certificate authority` means the other side refused this side's certificate for that reason." +
      '[[ Verification tried the CA "{candidate}" and its signature did not match: typically a CA regenerated with the ' +
      'same subject, so an old CA file looks right by name.]]',
    fix:
      'Distribute the CA that actually signed the certificates (the leaf\'s issuer and authority key identifier must match ' +
      "the CA file's subject and subject key identifier) and restart the process that reads it: etcd and kube-apiserver " +
      'load CA files only at start-up. Give every CA a distinct subject.',
    seeAlso: [`${ISSUE}7912`, `${KTHW}302`, 'https://github.com/etcd-io/etcd/pull/4893'],
  },
  {
    id: 'tls-plaintext-mismatch',
    title: 'One side speaks plaintext, the other TLS',
    matchers: [
      /tls: first record does not look like a TLS handshake/,
      // OpenSSL client against a plaintext port
      /wrong version number/,
      // etcd 3.4 closes a TLS handshake on a plaintext client port; etcdctl --debug shows only this
      /authentication handshake failed: EOF/,
    ],
    cause:
      'The bytes that arrived were not what the receiver expected. In an etcd `rejected connection` line' +
      '[[ (here from {remote})]], a client or member used http:// against an https listener: typical right after enabling TLS while a peer ' +
      'URL, an --initial-cluster entry, the member list or a client endpoint still says http://. On a client it means it ' +
      'spoke TLS to a plaintext port (OpenSSL: `wrong version number`; etcdctl --debug against etcd 3.4: ' +
      '`authentication handshake failed: EOF`).',
    fix:
      'Make the schemes agree. Update client endpoints to https://. Migrate peer URLs one member at a time: ' +
      '`etcdctl member update <id> --peer-urls=https://...`, then restart that member at once with an https peer listener ' +
      '(`etcd-tls migrate` does this). `etcdctl member list` shows any http:// URL left.',
    seeAlso: [
      `${ISSUE}11786`,
      'https://github.com/etcd-io/website/issues/604',
      'https://github.com/kubernetes-retired/etcdadm/issues/340',
      `${K8S}issues/27343`,
    ],
    captures: { remote: 'a client' },
  },
  {
    id: 'http-client-on-https-port',
    title: 'A plaintext HTTP client called a TLS port',
    matchers: [
      /malformed HTTP response "?\\x15\\x03/,
      /Client sent an HTTP request to an HTTPS server/,
      // verified against etcd 3.4.23: curl http:// on a TLS client port
      /\(52\) Empty reply from server/,
    ],
    cause:
      "The client sent plain HTTP to a port that speaks TLS. Go's HTTP client shows the TLS alert it got back as " +
      '`malformed HTTP response "\\x15\\x03\\x01..."`, a Go HTTPS server answers `Client sent an HTTP request to an ' +
      'HTTPS server`, and curl against an etcd client port says `Empty reply from server`. kube-apiserver 1.2 and older ' +
      'always probed etcd over http:// and hit this.',
    fix:
      'Use https:// in the URL (--endpoints, --etcd-servers, health checks) together with the CA file and, when client ' +
      'certificates are required, a client certificate. For certificate-free health checks give etcd an http ' +
      '--listen-metrics-urls listener (e.g. http://127.0.0.1:2381) and probe /health there.',
    seeAlso: [`${K8S}issues/27343`, `${K8S}pull/23903`],
  },
  {
    id: 'componentstatus-no-client-cert',
    title: 'kubectl get cs shows etcd Unhealthy with "bad certificate": the caller sent no client certificate',
    matchers: [
      /etcd-\d+\s+Unhealthy\s+Get "?(?<endpoint>https:\/\/[^\s"/]+)[^\s"]*"?: remote error: (?:tls: )?bad certificate/,
    ],
    cause:
      "etcd itself is most likely healthy. The componentstatus check of kube-apiserver 1.6 and older made its own GET to " +
      '{endpoint}/health with a default TLS transport that ignored --etcd-certfile/--etcd-keyfile, so it sent no client ' +
      'certificate. etcd demands one whenever --client-cert-auth or --trusted-ca-file is set, and rejected the handshake ' +
      "(etcd's log says `tls: client didn't provide a certificate`). From 1.7 the check presents --etcd-certfile, so on a " +
      'newer kube-apiserver this line means etcd refused that certificate: wrong CA, or no clientAuth.',
    fix:
      'Upgrade kube-apiserver to 1.7 or later, whose check presents the etcd client certificate (kubernetes#39716); or ' +
      'probe etcd over an http --listen-metrics-urls listener (e.g. http://127.0.0.1:2381/health), which needs no ' +
      'certificate. To confirm etcd is fine: `curl --cacert ca.pem --cert client.pem --key client-key.pem ' +
      '{endpoint}/health`. ComponentStatus is deprecated since 1.19; use the apiserver\'s /livez and /readyz.',
    seeAlso: [`${K8S}pull/39716`, `${K8S}issues/29330`, `${K8S}issues/17737`, `${KTHW}156`],
    captures: { endpoint: 'https://<etcd>:2379' },
  },
  {
    id: 'client-cert-missing',
    title: 'The caller sent no client certificate, and etcd requires one',
    matchers: [
      /tls: client didn't provide a certificate/,
      // TLS 1.3 alert 116 from newer Go servers; OpenSSL prints it as "tlsv13 alert certificate required"
      /remote error: tls: certificate required/,
      /alert certificate required/,
    ],
    cause:
      'etcd requires a client certificate on this listener: --client-cert-auth (--peer-client-cert-auth for peers) is on, ' +
      'or --trusted-ca-file is set, which alone already forces client certificates. The caller[[ at {remote}]] presented ' +
      'none: etcdctl or curl without --cert/--key, a health probe, or an old kube-apiserver componentstatus check. The ' +
      'caller sees `remote error: tls: bad certificate`, or `certificate required` under TLS 1.3 with newer Go.',
    fix:
      'Give the caller a client certificate signed by the trusted CA: etcdctl --cacert/--cert/--key (or ' +
      'ETCDCTL_CACERT/ETCDCTL_CERT/ETCDCTL_KEY), kube-apiserver --etcd-certfile/--etcd-keyfile, curl --cert/--key. For ' +
      'certificate-free health checks use an http --listen-metrics-urls listener.',
    seeAlso: [`${K8S}issues/29330`, `${K8S}pull/39716`, `${KTHW}156`],
  },
  {
    id: 'cert-expired',
    title: 'A certificate is expired or not yet valid',
    matchers: [
      /x509: certificate has expired or is not yet valid(?::? ?(?<window>current time \S+ is (?:after|before) [^\s",)]+))?/,
      /certificate has expired/,
      /certificate is not yet valid/,
      /alert certificate expired/,
      /remote error: tls: expired certificate/,
    ],
    cause:
      'A certificate in the chain is outside its validity period[[ ({window})]]. Typical causes: a one-year kubeadm or ' +
      'etcdadm leaf expired; renewed certificates were not copied to every node, or the process using them was not ' +
      'restarted; or the clocks disagree, so a certificate issued on a machine whose clock runs ahead is not yet valid ' +
      'elsewhere.',
    fix:
      'Compare `openssl x509 -noout -dates -in FILE` with `date -u` on every node. Renew and distribute the certificates: ' +
      'etcd re-reads its own certificate files on each handshake, but kube-apiserver must be restarted to load renewed ' +
      'etcd client certificates. Keep clocks in sync (NTP) and monitor expiry.',
    seeAlso: [`${ISSUE}15740`, 'https://github.com/kubernetes/kubeadm/issues/2177', 'https://github.com/kubernetes/kubeadm/issues/2989'],
  },
  {
    id: 'legacy-common-name',
    title: 'The server certificate has no SANs, only a Common Name',
    matchers: [
      /x509: certificate relies on legacy Common Name field/,
      /x509: certificate is not valid for any names, but wanted to match (?<wanted>[^\s",)]+)/,
    ],
    cause:
      'Go 1.15 and later ignore the Common Name when checking a host name, so a server certificate whose only name is its ' +
      'CN is rejected[[ for {wanted}]]. kube-apiserver 1.19+ and etcdctl (3.4.23 on Debian is built with go1.19) are such ' +
      'clients. curl still falls back to the CN, so the certificate can look fine with curl.',
    fix:
      'Re-issue the certificate with SANs for every name and IP address clients use. The GODEBUG=x509ignoreCN=0 escape ' +
      'hatch is gone since Go 1.17.',
    seeAlso: ['https://github.com/Quentin-M/etcd-cloud-operator/pull/61', 'https://github.com/rancher/rke2/issues/775'],
  },
  {
    id: 'env-flag-conflict',
    title: 'A setting is given both as an environment variable and as a command-line flag',
    matchers: [
      /conflicting environment variable "?(?<var>ETCD(?:CTL)?_[A-Z0-9_]+)"? is shadowed by corresponding command-line flag/,
      // 3.5+ zap puts the variable in its own field
      /conflicting environment variable is shadowed by corresponding command-line flag.*?"environment-variable":"(?<var>ETCD(?:CTL)?_[A-Z0-9_]+)"/,
    ],
    cause:
      '{var} is set in the environment and {var|flag} is on the command line as well; etcd 3.4+ and etcdctl refuse to ' +
      "start rather than pick one. Debian's etcd.service sets ETCD_NAME and ETCD_DATA_DIR itself and reads " +
      '/etc/default/etcd, so adding --name or --data-dir to DAEMON_ARGS collides.',
    fix:
      'Use one mechanism: remove {var|flag} from the command line (DAEMON_ARGS, ExecStart, the static pod manifest), or ' +
      'unset {var} (Environment=, EnvironmentFile=, /etc/default/etcd, an exported shell variable).',
    seeAlso: [`${ISSUE}11111`, 'https://github.com/etcd-io/etcd/pull/9382', `${ISSUE}14640`, `${ISSUE}20118`],
    captures: { var: 'the variable' },
  },
  {
    id: 'cipher-suites-http2',
    title: '--cipher-suites leaves no usable cipher suite',
    matchers: [
      /http2: TLSConfig\.CipherSuites is missing an HTTP\/2-required AES_128_GCM_SHA256 cipher/,
      // etcd 3.4 (zap) logs this before exiting; with capnslog the same path is a nil-pointer panic in serve.go:194
      /Configure https server failed/,
      /go\.etcd\.io\/etcd\/embed\/serve\.go:194 \+0x/,
      /tls: no cipher suite supported by both client and server/,
      /remote error: tls: handshake failure/,
      /alert handshake failure/,
    ],
    cause:
      "etcd serves HTTP/2 on its client port, and Go's HTTP/2 requires TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or " +
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 among the configured suites; without one the client listener fails. On ' +
      'etcd 3.4 with the default capnslog logger that shows up as a nil-pointer panic in embed/serve.go instead of the ' +
      'message (--logger=zap prints it); etcd 3.3 logged `use of closed network connection`. Under TLS 1.2 suites are also ' +
      'tied to the key type: ECDHE_RSA suites cannot serve an ECDSA certificate and vice versa, which fails with `no ' +
      'cipher suite supported by both client and server` or `handshake failure`. (A bare handshake-failure alert can ' +
      'also come from a newer Go server refusing a TLS 1.2 client that sent no certificate.)',
    fix:
      'Include the AES_128_GCM suite that matches your key type (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 for ECDSA keys, ' +
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 for RSA keys), or drop --cipher-suites and let Go choose.',
    seeAlso: ['https://github.com/etcd-io/etcd/pull/16850', `${ISSUE}10652`, `${ISSUE}8320`],
  },
  {
    id: 'gateway-cn-with-auth',
    title: "etcd's JSON gateway refuses client certificates that carry a CommonName when auth is enabled",
    matchers: [/CommonName of client sending a request against gateway will be ignored and not used as expected/],
    cause:
      'With auth enabled and --client-cert-auth, the gRPC gateway (JSON over HTTP under /v3/) does not take a client ' +
      "certificate's CN as the etcd user, and etcd 3.4 answers HTTP 400 to any gateway request whose certificate has a " +
      'non-empty CN. CN-based identity works only over gRPC (etcdctl, client libraries).',
    fix:
      'For gateway calls use a client certificate with an empty CN plus token auth: POST /v3/auth/authenticate with name ' +
      'and password, then send the token in the Authorization header. Or use etcdctl or a gRPC client, where the CN is ' +
      'the user.',
    seeAlso: [`${ISSUE}9816`, `${ISSUE}15945`],
  },
  {
    id: 'allowed-cn-mismatch',
    title: "A certificate's CommonName or host name is not the allowed one",
    matchers: [/CommonName authentication failed/, /client certificate authentication failed/],
    cause:
      '--peer-cert-allowed-cn, --peer-cert-allowed-hostname or --client-cert-allowed-hostname is set, and a certificate ' +
      'did not match it (etcd 3.3 logs `CommonName authentication failed`, 3.4+ `client certificate authentication ' +
      "failed`). The check sits in etcd's shared TLS configuration, so on 3.4 it also runs when a member dials out: the " +
      "listening member's peer certificate must carry the allowed CN too. The other side sees `remote error: tls: bad " +
      'certificate`.',
    fix:
      "Issue every member's peer certificate with the allowed CN (all members share it; their SANs still differ), or " +
      'correct the flag; from 3.5.15 it takes a comma-separated list. Allowed-CN and allowed-hostname are mutually ' +
      'exclusive.',
    seeAlso: [`${ISSUE}15755`, 'https://etcd.io/docs/v3.4/op-guide/security/'],
  },
  {
    id: 'cn-user-unknown',
    title: "Auth is enabled and the client certificate's CommonName is not a usable etcd user",
    matchers: [/etcdserver: user name (?:is empty|not found)/, /invalid user name (?<user>\S+) for permission checking/],
    cause:
      "With auth enabled and --client-cert-auth, etcd takes the verified client certificate's CN as the user name when " +
      'no user or token is given.[[ Here the CN is "{user}", which is not an etcd user.]] An empty CN gives `user name is ' +
      'empty`; a CN without a matching user gives `user name not found`, or on 3.4 `permission denied` to the client.',
    fix:
      "Create an etcd user named exactly as the certificate's CN and grant it a role (`etcdctl user add <CN> " +
      '--no-password`, `etcdctl user grant-role <CN> <role>`), issue the client certificate with the CN of an existing ' +
      'user, or authenticate with --user.',
    seeAlso: [`${ISSUE}9816`, `${ISSUE}15945`],
  },
  {
    id: 'scheme-http-with-tls-files',
    title: 'An http:// URL ignores the TLS settings given for it',
    matchers: [
      // etcd 3.4 capnslog
      /The scheme of (?<kind>peer|client) url (?<url>\S+) is HTTP while (?:peer )?key\/cert files are presented/,
      /The scheme of (?<kind>peer|client) url (?<url>\S+) is HTTP while client cert auth/,
      // zap (3.4 --logger=zap, 3.5+)
      /scheme is HTTP while (?:key and cert files are present|--(?:peer-)?client-cert-auth is enabled)(?:.*?"(?<kind>peer|client)-url":"(?<url>[^"]+)")?/,
    ],
    cause:
      'The[[ {kind}]] URL[[ {url}]] uses http://, so etcd serves it in plaintext and ignores the certificate, key and ' +
      'client-cert-auth settings for it. That is expected half-way through a migration, when a member already has TLS ' +
      'files but its peer URL is still http:// (the files are still used to dial https peers); otherwise the listener is ' +
      'unencrypted although TLS was configured.',
    fix:
      'If the goal is TLS, change the URL to https://; for a peer URL run `etcdctl member update` and restart the member, ' +
      'one member at a time (`etcd-tls migrate`). If the plaintext listener is deliberate (a loopback port kept during ' +
      'migration, or --listen-metrics-urls), the warning is harmless.',
    seeAlso: ['https://github.com/etcd-io/website/pull/977', `${ISSUE}11786`],
  },
  {
    id: 'removed-ca-file-flag',
    title: '--ca-file / ETCD_CA_FILE no longer exists: use --trusted-ca-file',
    matchers: [
      /unrecognized environment variable:? ?(?<old>ETCD_(?:PEER_)?CA_FILE)\b/,
      /unrecognized environment variable.*?"(?<old>ETCD_(?:PEER_)?CA_FILE)=/,
      /flag provided but not defined: (?<old>-{1,2}(?:peer-)?ca-file)\b/,
    ],
    cause:
      '{old} (deprecated since etcd 2.1) is gone in etcd 3.4. As an environment variable it is only warned about and ' +
      'otherwise ignored, so etcd runs without that CA: clients then fail with `certificate signed by unknown ' +
      'authority`, or are not verified at all when client-cert-auth is off. As a flag etcd refuses to start. Old ' +
      'guides still show ETCD_CA_FILE.',
    fix:
      'Use --trusted-ca-file (ETCD_TRUSTED_CA_FILE) for the client port and --peer-trusted-ca-file ' +
      '(ETCD_PEER_TRUSTED_CA_FILE) for peers, together with --client-cert-auth and --peer-client-cert-auth.',
    seeAlso: ['https://etcd.io/docs/v3.4/upgrades/upgrade_3_4/'],
    captures: { old: 'The CA-file setting' },
  },
  {
    id: 'key-mismatch',
    title: 'The private key does not belong to the certificate',
    matchers: [/tls: private key does not match public key/],
    cause:
      'etcd loaded a certificate and a key that are not a pair: files from different issuances, server and peer files ' +
      'mixed up, or a renewed certificate copied without its new key.',
    fix:
      'Compare the public keys: `openssl x509 -noout -pubkey -in CERT | sha256sum` must equal `openssl pkey -pubout -in ' +
      'KEY | sha256sum`. Point --cert-file/--key-file (and the peer pair) at matching files, or re-issue.',
    seeAlso: [],
  },
  {
    id: 'tls-file-unusable',
    title: 'etcd cannot read or parse a certificate or key file',
    matchers: [
      /open (?<file>[^\s:"]+\.(?:pem|crt|cert|key)): (?<problem>permission denied|no such file or directory)/,
      /tls: failed to find (?:any|certificate) PEM data in (?<pemInput>certificate|key) input/,
      /tls: failed to find "[A-Z ]+" PEM block in (?<pemInput>certificate|key) input/,
      /tls: found a certificate rather than a key in the PEM for the private key/,
    ],
    cause:
      '[[{file}: {problem}. ]][[The {pemInput} file holds no usable PEM block. ]]A file named by --cert-file, ' +
      '--key-file, --trusted-ca-file or a peer equivalent is missing, unreadable by the user etcd runs as ' +
      "(Debian's unit runs it as user etcd, so a root-owned 0600 key fails), or does not hold the expected PEM " +
      'block: certificate and key swapped, DER instead of PEM, or an encrypted key, which etcd cannot use.',
    fix:
      'Check each path as the etcd user (`sudo -u etcd head -c 40 FILE`); keys should be mode 0600 and owned by etcd; ' +
      'certificate files start with -----BEGIN CERTIFICATE----- and key files with an unencrypted -----BEGIN ... PRIVATE ' +
      'KEY-----.',
    seeAlso: [`${ISSUE}14015`],
  },
  {
    id: 'remote-bad-certificate',
    title: 'The other side rejected the certificate (or the missing certificate) in this handshake',
    matchers: [/remote error: (?:tls: )?bad certificate/, /alert bad certificate/],
    cause:
      '`bad certificate` is an alert sent by the other end of the connection, so the reason is only in its log. On a ' +
      'client (etcdctl, kube-apiserver, the gateway inside etcd, curl) it means the server refused the client ' +
      'certificate: none sent, CA not trusted, no clientAuth, expired, or not the allowed CN. In an etcd `rejected ' +
      "connection` line[[ (here from {remote})]] it is the reverse: the caller refused etcd's certificate, because " +
      'it does not trust its CA or the SANs do not cover the address it dialed.',
    fix:
      "Find the matching line on the other side at the same moment (etcd logs `rejected connection from ...` with the " +
      'real error; etcdctl shows it with --debug) and explain that line, or run `etcd-tls probe` against the endpoint ' +
      'with the same files.',
    seeAlso: [`${ISSUE}9785`, `${ISSUE}9398`],
  },
  {
    id: 'connection-refused',
    title: 'Nothing is listening at that address and port',
    matchers: [
      /(?:dial tcp (?<addr>\S+): )?connect: connection refused/,
      /Failed to connect to (?<addr>\S+ port \d+)(?: after \d+ ms)?: (?:Connection refused|Couldn't connect to server)/,
    ],
    cause:
      'The TCP connection[[ to {addr}]] was refused before any TLS took place: etcd is not running, stopped at start-up ' +
      '(a TLS setting error usually stops it: look for the first error in `journalctl -u etcd`), or listens on another ' +
      'address or port (--listen-client-urls, --listen-peer-urls). In etcd\'s own log right after a restart, a refused ' +
      'dial by the gateway or a peer is transient.',
    fix:
      'Check that etcd runs and what it listens on (`ss -ltnp | grep etcd`), compare with the endpoints the client uses, ' +
      "and read etcd's start-up log for the error that stopped it.",
    seeAlso: [],
  },
  {
    id: 'context-deadline-exceeded',
    title: 'A request timed out (context deadline exceeded): often a TLS failure underneath',
    matchers: [/context deadline exceeded/, /code = DeadlineExceeded/],
    cause:
      'etcdctl and the Go client retry failed connections quietly until the deadline, so a TLS handshake failure (missing ' +
      'or wrong client certificate, untrusted CA, SAN mismatch, http:// against https) usually surfaces only as ' +
      '`context deadline exceeded`. It can also be a real timeout: no quorum, no leader, or an unreachable endpoint.',
    fix:
      'Rerun the etcdctl command with --debug: the gRPC log then shows the real error (`transport: authentication ' +
      'handshake failed: ...`), which `etcd-tls explain` explains. Check that the endpoints use https:// and that ' +
      "--cacert/--cert/--key (or ETCDCTL_CACERT/ETCDCTL_CERT/ETCDCTL_KEY) are set, read the server's log for `rejected " +
      'connection` lines at the same moment, or run `etcd-tls probe`.',
    seeAlso: [],
  },
] as const satisfies readonly CatalogueEntry[];

/** The id of a catalogue entry: what findings name in `seeAlso` and `etcd-tls explain` accepts. */
export type CatalogueId = (typeof CATALOGUE)[number]['id'];

const BY_ID = new Map<string, { entry: CatalogueEntry; rank: number }>(CATALOGUE.map((e, i) => [e.id, { entry: e, rank: i }]));

/** The entry with this id, for callers (probe) that observe a failure directly. */
export function findEntry(id: string): CatalogueEntry | undefined {
  return BY_ID.get(id)?.entry;
}

/** Where an entry sits in the catalogue: lower is more specific. Unknown ids sort last. */
export function entryRank(id: string): number {
  return BY_ID.get(id)?.rank ?? Number.MAX_SAFE_INTEGER;
}
