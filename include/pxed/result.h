#pragma once
// A small Result type (std::expected arrives with C++23): functions that can
// fail on input return Result<T, E>; exceptions are for start-up only.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace pxed {

template <typename E>
struct Err {
    explicit Err(E e) : error(std::move(e)) {}
    E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E = std::string>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <typename E2>
    Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    const E& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, E> v_;
};

}  // namespace pxed
