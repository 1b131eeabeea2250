#include "tftp/codec.h"

#include <algorithm>
#include <cctype>

namespace pxed::tftp {

namespace {
uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

Result<Request, ParseError> parse_request(std::span<const uint8_t> b) {
    if (b.size() < 4) return Err(ParseError{ErrorCode::IllegalOperation, "short request"});
    uint16_t op = load16(b.data());
    if (op != uint16_t(Opcode::Rrq) && op != uint16_t(Opcode::Wrq))
        return Err(ParseError{ErrorCode::IllegalOperation, "not a read or write request"});
    // NUL-terminated strings: filename, mode, then option name/value pairs.
    std::vector<std::string> fields;
    size_t i = 2;
    while (i < b.size()) {
        auto end = std::find(b.begin() + long(i), b.end(), uint8_t(0));
        if (end == b.end()) return Err(ParseError{ErrorCode::IllegalOperation, "unterminated field"});
        fields.emplace_back(b.begin() + long(i), end);
        i = size_t(end - b.begin()) + 1;
        if (fields.size() > 64) return Err(ParseError{ErrorCode::IllegalOperation, "too many fields"});
    }
    if (fields.size() < 2) return Err(ParseError{ErrorCode::IllegalOperation, "missing filename or mode"});
    Request r;
    r.op = Opcode(op);
    r.filename = fields[0];
    if (r.filename.empty()) return Err(ParseError{ErrorCode::IllegalOperation, "empty filename"});
    std::string mode = lower(fields[1]);
    if (mode == "octet") r.mode = Mode::Octet;
    else if (mode == "netascii") r.mode = Mode::Netascii;
    else return Err(ParseError{ErrorCode::IllegalOperation, "unsupported mode '" + fields[1] + "'"});
    if ((fields.size() - 2) % 2 != 0)
        return Err(ParseError{ErrorCode::OptionRefused, "option '" + fields.back() + "' has no value"});
    for (size_t k = 2; k + 1 < fields.size(); k += 2) r.options.emplace_back(lower(fields[k]), fields[k + 1]);
    return r;
}

std::optional<uint16_t> parse_ack(std::span<const uint8_t> b) {
    if (b.size() < 4 || load16(b.data()) != uint16_t(Opcode::Ack)) return std::nullopt;
    return load16(b.data() + 2);
}

bool is_error(std::span<const uint8_t> b) { return b.size() >= 4 && load16(b.data()) == uint16_t(Opcode::Error); }

namespace {
void append(std::vector<uint8_t>& out, std::string_view s) {
    for (char c : s) out.push_back(uint8_t(c));
    out.push_back(0);
}
}  // namespace

std::vector<uint8_t> make_error(ErrorCode code, std::string_view message) {
    std::vector<uint8_t> out;
    out.reserve(5 + message.size());
    out.push_back(0);
    out.push_back(uint8_t(Opcode::Error));
    out.push_back(uint8_t(uint16_t(code) >> 8));
    out.push_back(uint8_t(code));
    append(out, message);
    return out;
}

std::vector<uint8_t> make_oack(const std::vector<std::pair<std::string, std::string>>& options) {
    std::vector<uint8_t> out;
    out.push_back(0);
    out.push_back(uint8_t(Opcode::Oack));
    for (auto& [k, v] : options) {
        append(out, k);
        append(out, v);
    }
    return out;
}

void put_data_header(uint8_t* out, uint16_t block) {
    store16(out, uint16_t(Opcode::Data));
    store16(out + 2, block);
}

}  // namespace pxed::tftp
