namespace SegServe.Api.Apis;

/// <summary>The problem statuses endpoints declare, named once for each kind of request.</summary>
internal static class ApiConventions
{
    /// <summary>An image posted to a model: bad parameters or image, unknown model, negotiation, limits, queue, model faults, loading.</summary>
    public static readonly int[] ImageRequest = [400, 404, 406, 413, 415, 429, 500, 503];

    /// <summary>Files scored against each other: bad parameters or files, limits, mismatches.</summary>
    public static readonly int[] EvaluationUpload = [400, 413, 415, 422];

    /// <summary>Files scored with a model that may predict: also unknown model, queue, loading.</summary>
    public static readonly int[] EvaluationWithModel = [400, 404, 413, 415, 422, 429, 503];

    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(statuses);
        foreach (int status in statuses)
        {
            builder.ProducesProblem(status);
        }

        return builder;
    }
}
