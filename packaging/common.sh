# Shared by the README's two commands: install what is missing, then configure and build
# into one build directory. Sourced, not run.
set -euo pipefail

MEADOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEADOW_BUILD="${MEADOW_BUILD:-$MEADOW_ROOT/build}"

# Debian 12 packages the build, the tests and the demo need.
MEADOW_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libzstd-dev libpsl-dev libcurl4-openssl-dev libxml2-dev zlib1g-dev
  libsodium-dev
  libcld2-dev
  libmimalloc-dev  # meadow-node's malloc; without it the build uses glibc's
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jsonschema curl zstd sqlite3
)

meadow_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

meadow_install_packages() {
  local missing=()
  for p in "${MEADOW_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
      exit 1
    fi
  fi
  meadow_say "installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

meadow_build() {
  local werror="${1:-OFF}"
  meadow_say "configuring $MEADOW_BUILD"
  cmake -S "$MEADOW_ROOT" -B "$MEADOW_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMEADOW_WERROR="$werror" >/dev/null
  meadow_say "building (this takes a few minutes the first time)"
  cmake --build "$MEADOW_BUILD" -j "$(nproc)"
}
