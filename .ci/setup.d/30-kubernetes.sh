# The Kubernetes manifest tests render deploy/k8s with kubectl's kustomize and validate every object with the pinned
# kubernetes-models (deploy/k8s/validate); each of them skips, saying why, when kubectl or the node modules are absent.
if ! command -v kubectl >/dev/null 2>&1; then
  apt_install kubernetes-client || echo "warning: could not install kubectl (kubernetes-client); the Kubernetes manifest tests will skip." >&2
fi
if command -v npm >/dev/null 2>&1; then
  (cd deploy/k8s/validate && npm ci --no-audit --no-fund >/dev/null) \
    || echo "warning: npm ci failed in deploy/k8s/validate; the Kubernetes manifest tests will skip." >&2
else
  echo "warning: npm is absent; the Kubernetes manifest tests will skip." >&2
fi
