#pragma once
// The one error rule of pxed (std::expected arrives with C++23):
//
//  - A function that can fail on input (bytes from the network, a file, a
//    command's arguments, a system call) returns Result<T>; one that can fail
//    but has no value to give returns Result<void>, never Result<bool>.
//    The error is a sentence for a person: it names the bad value and where
//    it came from.
//  - Start-up steps (opening the store, attaching XDP, binding sockets)
//    return Result too; only main() turns an error into an exit status.
//  - Exceptions are thrown only inside a parser (toml++, nlohmann-json) or a
//    control command, and caught at that boundary, which turns them into a
//    Result or an error reply. Nothing else throws on purpose.
//  - Bad input from the network is counted and dropped: never an assert.
#include <cassert>
#include <optional>
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

// Success or an error, with no value: `return {};` for success.
template <typename E>
class Result<void, E> {
public:
    Result() = default;
    template <typename E2>
    Result(Err<E2> e) : e_(E(std::move(e.error))) {}

    bool ok() const { return !e_.has_value(); }
    explicit operator bool() const { return ok(); }
    const E& error() const { assert(!ok()); return *e_; }

private:
    std::optional<E> e_;
};

}  // namespace pxed
