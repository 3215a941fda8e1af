namespace SegServe.Inference.Evaluation;

/// <summary>Why uploaded evaluation input cannot be scored; the host maps each to its own status.</summary>
public enum EvaluationFault
{
    /// <summary>The files were read but do not fit each other or the settings: sizes differ, labels outside the classes, colours outside the palette, files that do not pair up (422).</summary>
    CannotScore,

    /// <summary>A file could not be read as what it should be: a label map, COCO JSON (400).</summary>
    UnreadableFile,

    /// <summary>The archive is not a readable zip file (400).</summary>
    UnreadableArchive,

    /// <summary>The archive holds more pairs than one request may add (413).</summary>
    TooManyPairs,

    /// <summary>A file the others need was not sent, e.g. the class map of an instance-id PNG (400).</summary>
    MissingFile,
}

/// <summary>Evaluation input that cannot be scored, with a message that names the file and what is wrong with it.</summary>
public sealed class EvaluationInputException : Exception
{
    public EvaluationInputException()
        : this(EvaluationFault.CannotScore, "The evaluation input cannot be scored.")
    {
    }

    public EvaluationInputException(string message)
        : this(EvaluationFault.CannotScore, message)
    {
    }

    public EvaluationInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Input that cannot be read (<paramref name="unreadable"/>) or cannot be scored as given.</summary>
    public EvaluationInputException(string message, bool unreadable)
        : this(unreadable ? EvaluationFault.UnreadableFile : EvaluationFault.CannotScore, message)
    {
    }

    public EvaluationInputException(EvaluationFault fault, string message)
        : base(message)
    {
        Fault = fault;
    }

    public EvaluationFault Fault { get; }

    /// <summary>True when a file itself could not be read.</summary>
    public bool Unreadable => Fault == EvaluationFault.UnreadableFile;
}
