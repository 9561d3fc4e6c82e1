#!/usr/bin/env bash
# Fetches real photos for calibration and accuracy tests into artifacts/photos (or $KERNELS_PHOTOS_DIR) as binary
# PPM (P6): the JPEGs of Debian's darknet (dog, eagle, giraffe, horses, kite, person) and python-matplotlib-data
# (grace_hopper), extracted from the .deb files without installing them (darknet would pull OpenCV), decoded with
# djpeg (libjpeg-turbo-progs, installed when missing). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${KERNELS_PHOTOS_DIR:-$root/artifacts/photos}"
mkdir -p "$dir"
if [ "$(ls "$dir"/*.ppm 2>/dev/null | wc -l)" -ge 7 ]; then
  echo "photos: present in $dir"
  exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v djpeg >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libjpeg-turbo-progs >/dev/null \
    || { $sudo apt-get update -qq; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libjpeg-turbo-progs >/dev/null; }
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
# apt-get download needs the package lists: refresh them once if it fails (a fresh machine may have none).
if ! (cd "$work" && apt-get download -qq darknet python-matplotlib-data 2>/dev/null); then
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq darknet python-matplotlib-data)
fi
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
for jpg in "$work"/x/usr/share/darknet/data/*.jpg "$work"/x/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg; do
  name="$(basename "${jpg%.jpg}")"
  djpeg -ppm -outfile "$dir/$name.ppm" "$jpg"
done
echo "photos: $(ls "$dir"/*.ppm | wc -l) PPM files in $dir"
