#include "client/node/cli.h"

int main(int argc, char** argv) { return meadow::node::main(argc, argv); }
