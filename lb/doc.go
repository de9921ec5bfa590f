// Package lb holds svcnet's backend-picking algorithms behind one small
// interface, Picker.
package lb
