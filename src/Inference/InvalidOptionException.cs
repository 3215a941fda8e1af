namespace SegServe.Inference;

/// <summary>
/// A value a caller chose does not fit: a parameter out of range, a class the model does not have, a setting that does
/// not apply to this model. <see cref="Option"/> is the name the caller used, so the host can name it back; a fault of
/// the request, never of the service.
/// </summary>
public sealed class InvalidOptionException : Exception
{
    public InvalidOptionException()
        : this("", null, "Invalid option.")
    {
    }

    public InvalidOptionException(string message)
        : this("", null, message)
    {
    }

    public InvalidOptionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Option = "";
    }

    public InvalidOptionException(string option, string? value, string message)
        : base(message)
    {
        Option = option;
        Value = value;
    }

    /// <summary>The option (query parameter, header or field) as the caller named it.</summary>
    public string Option { get; }

    /// <summary>The value the caller gave, when there was one.</summary>
    public string? Value { get; }
}
