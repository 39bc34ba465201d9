#!/bin/sh
# tests/fuzz/build.sh - build every libFuzzer target into build-fuzz/.
#
# The engine (engine/*.c) is compiled with clang and
# -fsanitize=fuzzer-no-link,address,undefined (coverage + ASan + UBSan, every
# UB report fatal), each tests/fuzz/fz_*.c with -fsanitize=fuzzer,address,
# undefined and linked against it and Debian's cJSON and libyaml.  Objects are
# rebuilt only when a source or any engine/ or tests/fuzz/ header is newer.
# Needs clang with libFuzzer (Debian: clang + libclang-rt-14-dev).
# Usage: tests/fuzz/build.sh [TARGET...]   (default: every fz_*.c)
# Env: CLANG (default clang), OUT (default build-fuzz).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CLANG=${CLANG:-clang}
OUT=${OUT:-build-fuzz}
STD="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE"
INC="-Iengine $(pkg-config --cflags libcjson yaml-0.1 2>/dev/null || echo -I/usr/include/cjson)"
LIBS="$(pkg-config --libs libcjson yaml-0.1 2>/dev/null || echo -lcjson -lyaml) -lm"
SANFLAGS="-fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-g -O1 $STD $INC $SANFLAGS -Wall -Wextra -Wno-unused-function"

command -v "$CLANG" >/dev/null 2>&1 || { echo "build.sh: $CLANG not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$OUT/obj"

# newer SRC OBJ: true when OBJ must be rebuilt
newer() {
    [ ! -e "$2" ] || [ "$1" -nt "$2" ] || [ -n "$(find engine tests/fuzz -name '*.h' -newer "$2" | head -1)" ]
}

# the engine library, instrumented for coverage but without libFuzzer's main
objs=""
for src in engine/*.c; do
    obj="$OUT/obj/$(basename "$src" .c).o"
    if newer "$src" "$obj"; then
        echo "  CC  $src"
        $CLANG $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
    fi
    objs="$objs $obj"
done
lib="$OUT/libtam-fuzz.a"
need=0
[ -e "$lib" ] || need=1
for o in $objs; do [ "$o" -nt "$lib" ] && need=1; done
if [ $need -eq 1 ]; then
    rm -f "$lib"
    ar rcs "$lib" $objs
fi

if [ $# -eq 0 ]; then
    set -- $(ls tests/fuzz/fz_*.c | sed 's|.*/fz_||; s|\.c$||')
fi
for t in "$@"; do
    src="tests/fuzz/fz_$t.c"
    bin="$OUT/fz_$t"
    [ -e "$src" ] || { echo "build.sh: no $src" >&2; exit 1; }
    if newer "$src" "$bin" || [ "$lib" -nt "$bin" ]; then
        echo "  LD  $bin"
        $CLANG $CFLAGS -Werror -DFZ_ROOT="\"$ROOT\"" -fsanitize=fuzzer,address,undefined \
            "$src" "$lib" $LIBS -o "$bin"
    fi
done
