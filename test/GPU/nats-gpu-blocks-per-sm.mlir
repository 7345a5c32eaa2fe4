// RUN: nats-opt %s --nats-gpu-blocks-per-sm | FileCheck %s
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='blocks=2' | FileCheck %s --check-prefix=TWO
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='kernel-blocks=terms:3,two:3,narrow:3,pass:1' \
// RUN:   | FileCheck %s --check-prefix=NAMED

// A register budget, 65536 / block threads, where the SM can hold no second
// block anyway: @pool's dynamic shared memory leaves room for one (189696 +
// 1024 bytes of 233472), @grid's 64 blocks put one on each of 132 SMs, and
// 255 caps 65536 / 128 for @narrow. ptxas keeps its own choice for @two
// (three blocks' shared memory fit, two blocks' threads), for @mixed (one of
// its launches fits two), for @unknown (its pool is not a constant) and for
// @no_block (no known block size); a device function has no occupancy.
// CHECK-LABEL: gpu.module @kernels
// CHECK:       gpu.func @pool() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>, nvvm.maxnreg = 64 : i32}
// CHECK:       gpu.func @grid() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 64, 1, 1>, nvvm.maxnreg = 64 : i32}
// CHECK:       gpu.func @narrow() kernel attributes {known_block_size = array<i32: 128, 1, 1>, known_grid_size = array<i32: 100, 1, 1>, nvvm.maxnreg = 255 : i32}
// CHECK:       gpu.func @two() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
// CHECK:       gpu.func @mixed() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
// CHECK:       gpu.func @unknown() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 64, 1, 1>} {
// CHECK:       gpu.func @no_block() kernel attributes {known_grid_size = array<i32: 64, 1, 1>} {
// CHECK:       gpu.func @helper() {
// CHECK:       gpu.func @terms() kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
// CHECK:       gpu.func @pass() kernel attributes {known_block_size = array<i32: 512, 1, 1>, known_grid_size = array<i32: 384, 1, 1>} {

// With blocks=2, every kernel asks for two blocks an SM (PTX
// .minnctapersm); the budget halves where two is all that fits (@two's
// threads), and a kernel that cannot have two gets two blocks' budget too.
// TWO:       gpu.func @pool() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @two() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @mixed() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @unknown() kernel attributes {{{.*}}nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @helper() {

// Named kernels ask for their own count, as many blocks as fit, and get
// those blocks' budget even where more would fit: @terms' 70,656 bytes of
// shared memory and 256 threads let three share an SM, whose warps may
// have 2730 registers each, 2560 in the SM's units of 256: 80 a thread;
// @narrow's grid puts one on each SM; @two's threads let two. They get
// no more either: @pass's 107,008 bytes would let two share an SM (its 384
// blocks fill 132 SMs more than twice), so its launch asks for 115,713,
// which keeps a second out.
// NAMED-LABEL: func.func @host
// NAMED:       %[[KEEP:.+]] = arith.constant 115713 : i32
// NAMED-NEXT:  gpu.launch_func @kernels::@pass {{.*}} dynamic_shared_memory_size %[[KEEP]]
// NAMED:     gpu.func @narrow() kernel attributes {{{.*}}nvvm.maxnreg = 255 : i32}
// NAMED:     gpu.func @two() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// NAMED:     gpu.func @mixed() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
// NAMED:     gpu.func @terms() kernel attributes {{{.*}}nvvm.maxnreg = 80 : i32, nvvm.minctasm = 3 : i32}
// NAMED:     gpu.func @pass() kernel attributes {{{.*}}nvvm.maxnreg = 128 : i32}
module attributes {gpu.container_module} {
  func.func @host(%bytes: i32) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c100 = arith.constant 100 : index
    %c128 = arith.constant 128 : index
    %c1024 = arith.constant 1024 : index
    %c8192 = arith.constant 8192 : index
    %pool = arith.constant 189696 : i32
    %small = arith.constant 69632 : i32
    %terms = arith.constant 70656 : i32
    %c256 = arith.constant 256 : index
    %c384 = arith.constant 384 : index
    %c512 = arith.constant 512 : index
    %pass = arith.constant 107008 : i32
    gpu.launch_func @kernels::@pool blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %pool
    gpu.launch_func @kernels::@grid blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1)
    gpu.launch_func @kernels::@narrow blocks in (%c100, %c1, %c1) threads in (%c128, %c1, %c1)
    gpu.launch_func @kernels::@two blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %small
    gpu.launch_func @kernels::@mixed blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %pool
    gpu.launch_func @kernels::@mixed blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %small
    gpu.launch_func @kernels::@unknown blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %bytes
    gpu.launch_func @kernels::@no_block blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1)
    gpu.launch_func @kernels::@terms blocks in (%c8192, %c1, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %terms
    gpu.launch_func @kernels::@pass blocks in (%c384, %c1, %c1) threads in (%c512, %c1, %c1) dynamic_shared_memory_size %pass
    return
  }
  gpu.module @kernels {
    gpu.func @pool() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
      gpu.return
    }
    gpu.func @grid() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
    gpu.func @narrow() kernel attributes {known_block_size = array<i32: 128, 1, 1>, known_grid_size = array<i32: 100, 1, 1>} {
      gpu.return
    }
    gpu.func @two() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
      gpu.return
    }
    gpu.func @mixed() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
      gpu.return
    }
    gpu.func @unknown() kernel attributes {known_block_size = array<i32: 1024, 1, 1>, known_grid_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
    gpu.func @no_block() kernel attributes {known_grid_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
    gpu.func @helper() {
      gpu.return
    }
    gpu.func @terms() kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 8192, 1, 1>} {
      gpu.return
    }
    gpu.func @pass() kernel attributes {known_block_size = array<i32: 512, 1, 1>, known_grid_size = array<i32: 384, 1, 1>} {
      gpu.return
    }
  }
}
