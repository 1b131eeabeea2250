#!/bin/sh
# pxed and pxectl print the same version, the project's.
# Usage: same_version.sh PXED PXECTL PROJECT_VERSION
set -u
a=$("$1" --version | awk '{print $2}')
b=$("$2" --version | awk '{print $2}')
echo "pxed=$a pxectl=$b project=$3"
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$3" ]
