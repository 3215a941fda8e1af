namespace SegServe.Inference.Decoding;

/// <summary>The model's output broke its manifest's contract (a fault of the model, not of the request).</summary>
public sealed class ModelOutputException : Exception
{
    public ModelOutputException()
    {
    }

    public ModelOutputException(string message)
        : base(message)
    {
    }

    public ModelOutputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
