namespace SegServe.Contracts; internal static class Placeholder { }
