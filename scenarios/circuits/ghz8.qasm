// GHZ-8 as a CNOT ladder (the same circuit as the built-in generator `ghz`, n = 8).
OPENQASM 3.0;
include "stdgates.inc";
qubit[8] q;
bit[8] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
cx q[2], q[3];
cx q[3], q[4];
cx q[4], q[5];
cx q[5], q[6];
cx q[6], q[7];
c = measure q;
