// Linked into ThreadSanitizer builds only (scripts/tsan.sh). librdkafka starts its threads with
// C11 thrd_create, which gcc 12's ThreadSanitizer does not intercept: such a thread runs without
// the sanitizer's per-thread state and crashes in its first malloc. Defining thrd_create here, in
// the executable, makes librdkafka's calls bind to this one, which starts the thread through the
// intercepted pthread_create; thrd_join and thrd_detach go through pthread_join and pthread_detach
// for the same reason (a detach the sanitizer misses makes it report the thread id as reused).
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct Start {
    thrd_start_t routine;
    void* arg;
};

void* run_start(void* start_ptr) {
    const Start start = *static_cast<Start*>(start_ptr);
    delete static_cast<Start*>(start_ptr);
    return reinterpret_cast<void*>(static_cast<intptr_t>(start.routine(start.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thread, thrd_start_t routine, void* arg) {
    auto* start = new (std::nothrow) Start{routine, arg};
    if (!start) return thrd_nomem;
    const int error = pthread_create(thread, nullptr, run_start, start);
    if (error == 0) return thrd_success;
    delete start;
    return error == EAGAIN ? thrd_nomem : thrd_error;
}

extern "C" int thrd_join(thrd_t thread, int* result) {
    void* value = nullptr;
    if (pthread_join(thread, &value) != 0) return thrd_error;
    if (result) *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
    return thrd_success;
}

extern "C" int thrd_detach(thrd_t thread) { return pthread_detach(thread) == 0 ? thrd_success : thrd_error; }
