/// Milliseconds since the Unix epoch. The shell passes the wall clock; the simulator a virtual one.
public typealias Millis = Int64
