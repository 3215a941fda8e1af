namespace SegServe.Inference.Models;

/// <summary>A model could not be loaded; the message is shown to users as the model's failure reason.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException()
    {
    }

    public ModelLoadException(string message)
        : base(message)
    {
    }

    public ModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
