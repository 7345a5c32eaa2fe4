// RUN: nats-opt %s --nats-gpu-blocks-per-sm | FileCheck %s
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='blocks=2' | FileCheck %s --check-prefix=TWO

// A register budget, 65536 / block threads, where the SM can hold no second
// block anyway: @pool's dynamic shared memory leaves room for one (189696 +
// 1280 bytes of 233472), @grid's 64 blocks put one on each of 132 SMs, and
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

// With blocks=2, every kernel asks for two blocks an SM (PTX
// .minnctapersm); the budget halves where two is all that fits (@two's
// threads), and a kernel that cannot have two gets two blocks' budget too.
// TWO:       gpu.func @pool() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @two() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @mixed() kernel attributes {{{.*}}nvvm.maxnreg = 32 : i32, nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @unknown() kernel attributes {{{.*}}nvvm.minctasm = 2 : i32}
// TWO:       gpu.func @helper() {
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
    gpu.launch_func @kernels::@pool blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %pool
    gpu.launch_func @kernels::@grid blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1)
    gpu.launch_func @kernels::@narrow blocks in (%c100, %c1, %c1) threads in (%c128, %c1, %c1)
    gpu.launch_func @kernels::@two blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %small
    gpu.launch_func @kernels::@mixed blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %pool
    gpu.launch_func @kernels::@mixed blocks in (%c8192, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %small
    gpu.launch_func @kernels::@unknown blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1) dynamic_shared_memory_size %bytes
    gpu.launch_func @kernels::@no_block blocks in (%c64, %c1, %c1) threads in (%c1024, %c1, %c1)
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
  }
}
