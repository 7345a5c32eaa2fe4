# Sourced by gpu_bench.sh and gpu_check.sh on the GPU machine: Triton's and
# Inductor's caches (FLA's autotuned kernels and the autotuner's choices,
# FlexAttention's compiled kernels) in one folder, so that a call need not
# compile and autotune again what an earlier one did (a cold call spends
# ~40 s on each new M1 shape, and minutes on M3's FlexAttention). Restored
# from .device/compile-cache.tgz.* when those parts were carried; packed into
# $OUT/compile-cache.tgz.* (parts a call can return) when the script ends, to
# be copied into .device/ for the next call: while at most MAX_MB (the carry
# limit is 64 MiB with the rest of .device), Triton's alone if both are over.
cache_root=/tmp/nats-compile-cache
export TRITON_CACHE_DIR=$cache_root/triton TORCHINDUCTOR_CACHE_DIR=$cache_root/inductor \
       TRITON_CACHE_AUTOTUNING=1
if [ ! -d "$cache_root" ] && compgen -G ".device/compile-cache.tgz.*" >/dev/null; then
  cat .device/compile-cache.tgz.* | tar xzf - -C /tmp \
    || echo "warning: the carried compile cache did not unpack; compiling afresh" >&2
fi

pack_compile_cache() {
  local max_mb=${MAX_MB:-28} parts
  [ -n "${OUT:-}" ] && [ -d "$cache_root" ] || return 0
  for parts in "triton inductor" "triton"; do
    rm -f "$OUT"/compile-cache.tgz.*
    # shellcheck disable=SC2086  # the word list is the folders to pack
    (cd /tmp && tar czf - $(printf "nats-compile-cache/%s " $parts) 2>/dev/null) \
      | split -b 15M - "$OUT/compile-cache.tgz." || true
    if [ "$(cat "$OUT"/compile-cache.tgz.* | wc -c)" -le $((max_mb << 20)) ]; then
      echo "compile cache ($parts): $(du -ch "$OUT"/compile-cache.tgz.* | tail -1 | cut -f1) in $OUT/compile-cache.tgz.*"
      return 0
    fi
  done
  rm -f "$OUT"/compile-cache.tgz.*
  echo "compile cache over ${max_mb} MB: not packed"
}
trap pack_compile_cache EXIT
