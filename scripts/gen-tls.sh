#!/usr/bin/env bash
# Creates the mTLS material the watcher and the speakers share: a CA and one
# certificate (serverAuth + clientAuth) for svcbgp-watcher.svcbgp-system.svc,
# stored as the Secret svcbgp-tls with keys ca.crt, tls.crt and tls.key.
#
#   scripts/gen-tls.sh                 # create/replace the Secret with kubectl
#   scripts/gen-tls.sh --out DIR       # only write ca.crt, tls.crt, tls.key and secret.yaml to DIR
#   scripts/gen-tls.sh --print         # print the Secret manifest on stdout
#
# Options: --namespace NS (svcbgp-system), --days N (365), --san NAME (extra
# DNS name or IP; repeatable), --ca-cert F --ca-key F (sign with an existing CA
# instead of making one). Needs openssl; kubectl only to apply.
#
# Rotation: run it again and restart both workloads
# (kubectl -n svcbgp-system rollout restart deploy/svcbgp-watcher ds/svcbgp-speaker).
# A new CA invalidates old certificates at once; to rotate without a gap,
# reuse the CA with --ca-cert/--ca-key.
set -euo pipefail

namespace=svcbgp-system
days=365
out=""
mode=apply
ca_cert=""
ca_key=""
extra_sans=()

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --namespace) namespace="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --out) out="$2"; mode=files; shift 2 ;;
    --print) mode=print; shift ;;
    --san) extra_sans+=("$2"); shift 2 ;;
    --ca-cert) ca_cert="$2"; shift 2 ;;
    --ca-key) ca_key="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gen-tls.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "gen-tls.sh: openssl is required" >&2; exit 1; }
if [[ -n "$ca_cert" || -n "$ca_key" ]] && [[ -z "$ca_cert" || -z "$ca_key" ]]; then
  echo "gen-tls.sh: --ca-cert and --ca-key go together" >&2; exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

# Names a speaker may dial the watcher by, plus the local stack's (compose) and loopback.
sans="DNS:svcbgp-watcher,DNS:svcbgp-watcher.${namespace},DNS:svcbgp-watcher.${namespace}.svc"
sans+=",DNS:svcbgp-watcher.${namespace}.svc.cluster.local,DNS:watcher,DNS:localhost,IP:127.0.0.1,IP:::1"
for san in "${extra_sans[@]+"${extra_sans[@]}"}"; do
  if [[ "$san" =~ ^[0-9.]+$ || "$san" == *:* ]]; then sans+=",IP:${san}"; else sans+=",DNS:${san}"; fi
done

if [[ -n "$ca_cert" ]]; then
  cp "$ca_cert" "$work/ca.crt"
  cp "$ca_key" "$work/ca.key"
else
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$work/ca.key" -out "$work/ca.crt" -days "$((days * 3))" -sha256 \
    -subj "/O=svcbgp/CN=svcbgp CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$work/tls.key" -out "$work/tls.csr" -subj "/O=svcbgp/CN=svcbgp-watcher.${namespace}.svc" 2>/dev/null
cat > "$work/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=${sans}
EXT
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/tls.crt" -days "$days" -sha256 -extfile "$work/ext.cnf" 2>/dev/null
# PKCS#8, which every TLS stack (grpc-js/OpenSSL included) reads.
openssl pkey -in "$work/tls.key" -out "$work/tls.pk8"
mv "$work/tls.pk8" "$work/tls.key"
openssl verify -CAfile "$work/ca.crt" "$work/tls.crt" >/dev/null

b64() { base64 < "$1" | tr -d '\n'; }
secret_yaml() {
  cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: svcbgp-tls
  namespace: ${namespace}
  labels:
    app.kubernetes.io/name: svcbgp
type: Opaque
data:
  ca.crt: $(b64 "$work/ca.crt")
  tls.crt: $(b64 "$work/tls.crt")
  tls.key: $(b64 "$work/tls.key")
YAML
}

case "$mode" in
  files)
    mkdir -p "$out"
    cp "$work/ca.crt" "$work/tls.crt" "$work/tls.key" "$out/"
    [[ -n "$ca_cert" ]] || cp "$work/ca.key" "$out/ca.key"
    secret_yaml > "$out/secret.yaml"
    echo "gen-tls.sh: wrote ca.crt, tls.crt, tls.key$([[ -n "$ca_cert" ]] || echo ", ca.key (keep it offline)") and secret.yaml to $out" >&2
    ;;
  print)
    secret_yaml
    ;;
  apply)
    command -v kubectl >/dev/null || { echo "gen-tls.sh: kubectl not found; use --out DIR or --print" >&2; exit 1; }
    kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"
    secret_yaml | kubectl apply -f -
    echo "gen-tls.sh: Secret ${namespace}/svcbgp-tls applied; the CA key was not kept (use --out to keep it)" >&2
    ;;
esac
