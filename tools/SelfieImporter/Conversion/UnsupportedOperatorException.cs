namespace SegServe.Tools.SelfieImporter.Conversion;

/// <summary>Thrown when the TFLite graph uses an operator, or an operator variant, that the converter does not handle.</summary>
public sealed class UnsupportedOperatorException : Exception
{
    public UnsupportedOperatorException()
    {
    }

    public UnsupportedOperatorException(string message)
        : base(message)
    {
    }

    public UnsupportedOperatorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
