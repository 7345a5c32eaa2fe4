//===- CudaRuntime.cpp - the GPU runtime that nats' host code calls -------===//
//
// `gpu-to-llvm` lowers gpu.launch_func, gpu.alloc, ... to calls of mgpu*
// functions (the interface of upstream's CudaRuntimeWrappers, which Debian
// does not package). This file implements them over the CUDA driver API, and
// adds the few calls a host program needs around them (device buffers,
// copies, errors), with a C ABI that any language can load.
//
// Errors: the mgpu* interface returns no status, so the first failing CUDA
// call is recorded (with what was being done) and every later call becomes
// a no-op until natsCudaTakeError() reads and clears it. A caller checks
// after each compiled function it runs.
//
// Every call runs in the device's primary context, the one the CUDA runtime
// (and so PyTorch) uses: buffers pass freely between them.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#define NATS_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

std::mutex errorMutex;
std::string firstError;

bool failed() {
  std::lock_guard<std::mutex> lock(errorMutex);
  return !firstError.empty();
}

void recordError(const char *what, const std::string &detail) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    firstError = std::string(what) + ": " + detail;
}

/// Checks a driver call; records the first failure. True on success.
bool check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return true;
  const char *name = "unknown error", *text = "";
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &text);
  recordError(what, std::string(name) + " (" + text + ")");
  return false;
}

/// The stream the calling thread asked compiled functions to run on
/// (natsCudaSetStream), or null: each call then makes a stream of its own.
thread_local CUstream callerStream = nullptr;

/// The pool that compiled functions allocate their intermediates from.
CUmemoryPool devicePool = nullptr;

/// Makes the primary context of device 0 current on the calling thread.
bool enterContext() {
  static CUcontext context = [] {
    CUcontext primary = nullptr;
    CUdevice device;
    // Compiled functions allocate their intermediates per call
    // (cuMemAllocAsync); the default pool would hand that memory back to
    // the driver at every synchronisation, and the next call would pay for
    // mapping it again. Keep it pooled.
    cuuint64_t keepAll = UINT64_MAX;
    if (check(cuInit(0), "cuInit") &&
        check(cuDeviceGet(&device, 0), "cuDeviceGet") &&
        check(cuDevicePrimaryCtxRetain(&primary, device),
              "cuDevicePrimaryCtxRetain") &&
        check(cuDeviceGetDefaultMemPool(&devicePool, device),
              "cuDeviceGetDefaultMemPool"))
      check(cuMemPoolSetAttribute(devicePool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                  &keepAll),
            "keeping freed device memory pooled");
    return primary;
  }();
  return context && check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
}

/// Guards the body of every entry point: nothing runs after an error.
bool ready() { return !failed() && enterContext(); }

/// Waits for the work that compiled calls queued on the caller's stream
/// (natsCudaSetStream; they return without waiting): the host's copies and
/// frees must not overtake it, and cuMemcpy's legacy stream does not wait
/// for a non-blocking one. True unless that work failed.
bool waitForCallerStream() {
  return !callerStream ||
         check(cuStreamSynchronize(callerStream), "running the kernels");
}

} // namespace

//===----------------------------------------------------------------------===//
// The mgpu* interface called by code from gpu-to-llvm.
//===----------------------------------------------------------------------===//

NATS_EXPORT CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  if (ready())
    check(cuModuleLoadData(&module, data), "loading a kernel module");
  return module;
}

NATS_EXPORT void mgpuModuleUnload(CUmodule module) {
  // Runs from a global destructor, perhaps after the context is gone.
  if (module && !failed())
    cuModuleUnload(module);
}

NATS_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module,
                                             const char *name) {
  CUfunction function = nullptr;
  if (!module) {
    recordError("mgpuModuleGetFunction", "the kernel module was not loaded");
    return nullptr;
  }
  if (ready())
    check(cuModuleGetFunction(&function, module, name), "finding a kernel");
  return function;
}

NATS_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                  intptr_t gridY, intptr_t gridZ,
                                  intptr_t blockX, intptr_t blockY,
                                  intptr_t blockZ, int32_t sharedBytes,
                                  CUstream stream, void **params,
                                  void **extra, size_t /*paramsCount*/) {
  if (!function || !ready())
    return;
  // Beyond 48 KiB of shared memory, static and dynamic together, a kernel
  // must ask for its dynamic shared memory explicitly.
  int staticBytes = 0;
  if (sharedBytes > 0 &&
      !check(cuFuncGetAttribute(&staticBytes,
                                CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function),
             "reading a kernel's static shared memory"))
    return;
  if (staticBytes + sharedBytes > 48 * 1024 &&
      !check(cuFuncSetAttribute(function,
                                CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                sharedBytes),
             "raising a kernel's shared memory limit"))
    return;
  check(cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                       sharedBytes, stream, params, extra),
        "launching a kernel");
}

NATS_EXPORT CUstream mgpuStreamCreate() {
  if (callerStream)
    return callerStream;
  CUstream stream = nullptr;
  // A blocking stream: the call's work starts after the work queued on the
  // legacy default stream (torch's default, where a caller's inputs were
  // most likely made), and work queued there later waits for it. A
  // non-blocking one raced them: a call right after torch made its inputs
  // read them before they were written (compute-sanitizer's initcheck, run
  // 94).
  if (ready())
    check(cuStreamCreate(&stream, CU_STREAM_DEFAULT), "creating a stream");
  return stream;
}

NATS_EXPORT void mgpuStreamDestroy(CUstream stream) {
  if (stream && stream != callerStream && enterContext())
    check(cuStreamDestroy(stream), "destroying a stream");
}

NATS_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  // The caller's stream orders the call's work, and the frees of its
  // intermediates (cuMemFreeAsync) after it: like a torch op, the call
  // returns once its work is enqueued there. A stream of the call's own
  // is waited for, also after an earlier error: its work must end before
  // the stream goes.
  if (stream == callerStream)
    return;
  if (stream && enterContext())
    check(cuStreamSynchronize(stream), "running the kernels");
}

NATS_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  if (ready())
    check(cuStreamWaitEvent(stream, event, 0), "ordering streams");
}

NATS_EXPORT CUevent mgpuEventCreate() {
  CUevent event = nullptr;
  if (ready())
    check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "creating an event");
  return event;
}

NATS_EXPORT void mgpuEventDestroy(CUevent event) {
  if (event && enterContext())
    check(cuEventDestroy(event), "destroying an event");
}

NATS_EXPORT void mgpuEventSynchronize(CUevent event) {
  if (event && enterContext())
    check(cuEventSynchronize(event), "waiting for an event");
}

NATS_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  if (ready())
    check(cuEventRecord(event, stream), "recording an event");
}

NATS_EXPORT void *mgpuMemAlloc(uint64_t bytes, CUstream stream,
                               bool /*isHostShared*/) {
  CUdeviceptr pointer = 0;
  if (bytes && ready())
    check(cuMemAllocAsync(&pointer, bytes, stream), "allocating device memory");
  return reinterpret_cast<void *>(pointer);
}

NATS_EXPORT void mgpuMemFree(void *pointer, CUstream stream) {
  if (pointer && enterContext())
    check(cuMemFreeAsync(reinterpret_cast<CUdeviceptr>(pointer), stream),
          "freeing device memory");
}

NATS_EXPORT void mgpuMemcpy(void *dst, void *src, size_t bytes,
                            CUstream stream) {
  if (ready())
    check(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                        reinterpret_cast<CUdeviceptr>(src), bytes, stream),
          "copying device memory");
}

NATS_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                              CUstream stream) {
  if (ready())
    check(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                           stream),
          "filling device memory");
}

//===----------------------------------------------------------------------===//
// What a host program needs around compiled functions.
//===----------------------------------------------------------------------===//

NATS_EXPORT void *natsCudaAlloc(uint64_t bytes) {
  CUdeviceptr pointer = 0;
  if (ready())
    check(cuMemAlloc(&pointer, bytes ? bytes : 1), "allocating device memory");
  return reinterpret_cast<void *>(pointer);
}

NATS_EXPORT void natsCudaFree(void *pointer) {
  if (!pointer || !enterContext())
    return;
  // Also after an earlier error: the memory goes once no queued work uses it.
  waitForCallerStream();
  check(cuMemFree(reinterpret_cast<CUdeviceptr>(pointer)),
        "freeing device memory");
}

NATS_EXPORT void natsCudaCopyToDevice(void *dst, const void *src,
                                      uint64_t bytes) {
  if (ready() && waitForCallerStream())
    check(cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst), src, bytes),
          "copying to the device");
}

NATS_EXPORT void natsCudaCopyToHost(void *dst, const void *src,
                                    uint64_t bytes) {
  if (ready() && waitForCallerStream())
    check(cuMemcpyDtoH(dst, reinterpret_cast<CUdeviceptr>(src), bytes),
          "copying to the host");
}

/// Makes compiled functions called from this thread run on `stream` (a
/// CUstream or cudaStream_t of the primary context; null: a stream of their
/// own per call, which they wait for before they return). On the caller's
/// stream they return once their work is enqueued.
NATS_EXPORT void natsCudaSetStream(void *stream) {
  callerStream = static_cast<CUstream>(stream);
}

NATS_EXPORT void natsCudaSynchronize() {
  if (ready())
    check(cuCtxSynchronize(), "waiting for the device");
}

/// The most memory compiled functions' intermediates held at once (bytes
/// of the device pool in use) since the last natsCudaResetPeakMemory; 0
/// after an error. The arrays a host program allocates are not counted.
NATS_EXPORT uint64_t natsCudaPeakMemory() {
  cuuint64_t bytes = 0;
  if (ready())
    check(cuMemPoolGetAttribute(devicePool, CU_MEMPOOL_ATTR_USED_MEM_HIGH,
                                &bytes),
          "reading the device pool's peak");
  return bytes;
}

NATS_EXPORT void natsCudaResetPeakMemory() {
  // The driver takes only zero here: the watermark restarts from the
  // memory in use now.
  cuuint64_t zero = 0;
  if (ready())
    check(cuMemPoolSetAttribute(devicePool, CU_MEMPOOL_ATTR_USED_MEM_HIGH,
                                &zero),
          "resetting the device pool's peak");
}

/// The device's name, or an empty string (see natsCudaTakeError).
NATS_EXPORT void natsCudaDeviceName(char *name, int32_t size) {
  CUdevice device;
  name[0] = '\0';
  if (ready() && check(cuCtxGetDevice(&device), "cuCtxGetDevice"))
    check(cuDeviceGetName(name, size, device), "cuDeviceGetName");
}

/// Copies the first error since the last call into `message` (empty if
/// none) and clears it. Returns whether there was one.
NATS_EXPORT bool natsCudaTakeError(char *message, int32_t size) {
  std::lock_guard<std::mutex> lock(errorMutex);
  bool any = !firstError.empty();
  std::snprintf(message, size, "%s", firstError.c_str());
  firstError.clear();
  return any;
}
