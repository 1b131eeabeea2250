#pragma once
// TFTP wire format (RFC 1350) with options (RFC 2347, 2348, 2349, 7440).
// Pure: bytes in, a request or a parse error out; fields in, bytes out.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pxed/result.h"

namespace pxed::tftp {

enum class Opcode : uint16_t { Rrq = 1, Wrq = 2, Data = 3, Ack = 4, Error = 5, Oack = 6 };

enum class ErrorCode : uint16_t {
    NotDefined = 0, FileNotFound = 1, AccessViolation = 2, DiskFull = 3,
    IllegalOperation = 4, UnknownTid = 5, FileExists = 6, NoSuchUser = 7, OptionRefused = 8,
};

enum class Mode { Octet, Netascii };

inline constexpr uint16_t kDefaultBlksize = 512;
inline constexpr uint16_t kMinBlksize = 8;
inline constexpr uint16_t kMaxBlksize = 65464;

// A read or write request, with the options as sent (names lower-cased).
struct Request {
    Opcode op = Opcode::Rrq;
    std::string filename;
    Mode mode = Mode::Octet;
    std::vector<std::pair<std::string, std::string>> options;
};

struct ParseError {
    ErrorCode code;
    std::string message;
};

Result<Request, ParseError> parse_request(std::span<const uint8_t> b);

// An ACK's block number; nullopt for anything that is not a 4-byte ACK.
std::optional<uint16_t> parse_ack(std::span<const uint8_t> b);
bool is_error(std::span<const uint8_t> b);

std::vector<uint8_t> make_error(ErrorCode code, std::string_view message);
std::vector<uint8_t> make_oack(const std::vector<std::pair<std::string, std::string>>& options);
// DATA header (4 bytes) written in front of `payload_len` bytes the caller fills.
void put_data_header(uint8_t* out, uint16_t block);

}  // namespace pxed::tftp
