fn main() {
    std::process::exit(ktriage::cli::main());
}
