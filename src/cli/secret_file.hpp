// Secrets given as files: --kafka-property-file, --postgres-password-file and their environment
// variables. One rule for all of them: a name that names no file is never shown, since it may be
// the secret itself, pasted where the name of its file was meant.
#pragma once

#include <string>

namespace warden::cli {

// Which part of the file is the secret.
enum class SecretFilePart {
    content_without_final_line_breaks,  // a Kafka value: PEM keys span lines
    first_line,                         // a password: the first line exactly, without its \n or \r\n
};

// The secret held by the file `path`, given for `setting` (such as "--postgres-password-file" or
// "sasl.password"). Registers it with log::add_sensitive_value before any check can fail. Throws
// std::runtime_error for a file that does not exist (not named; `instead` tells what the option
// takes, such as "--kafka-property takes values, --kafka-property-file takes files"), is a
// directory, cannot be read, is larger than 1 MiB, or gives an empty secret or one holding a NUL.
std::string read_secret_file(const std::string& setting, const std::string& path, const std::string& instead,
                             SecretFilePart part);

}  // namespace warden::cli
