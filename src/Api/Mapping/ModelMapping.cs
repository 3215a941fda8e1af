using System.Globalization;
using System.Text.Json;
using SegServe.Contracts;
using SegServe.Inference.Models;
using SegServe.Inference.Rendering;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Mapping;

/// <summary>Models and their queues as the public contracts describe them.</summary>
internal static class ModelMapping
{
    public static ModelDescription ToDescription(this SegmentationModel model)
    {
        ModelManifest? manifest = model.Manifest;
        ModelState state = model.State;
        IReadOnlyList<ClassDescription> classes = [];
        if (manifest is not null)
        {
            IReadOnlyList<string> colours = new ClassPalette(manifest.Classes).ColorTexts();
            var list = new ClassDescription[manifest.Classes.Count];
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = new ClassDescription(manifest.Classes[i].Id, manifest.Classes[i].Name, colours[i]);
            }

            classes = list;
        }

        return new ModelDescription(
            Name: model.Name,
            Status: EnumText(state.Status),
            FailureReason: state.FailureReason,
            ExecutionProvider: model.Provider?.Name,
            ExecutionProviderNote: model.Provider?.Note,
            Task: manifest is null ? null : EnumText(manifest.Task),
            Family: manifest?.Family,
            Description: manifest?.Description,
            Input: manifest is null ? null : ToDescription(manifest.Input, model.Input),
            Output: manifest is null ? null : new ModelOutputDescription(model.Output?.Name ?? manifest.Output.Name ?? "", EnumText(manifest.Output.Kind), manifest.Output.Threshold),
            Classes: classes,
            Signature: model.Inputs.Count == 0 ? null : new ModelSignature(ToDescriptions(model.Inputs), ToDescriptions(model.Outputs)),
            Batching: model.Batching is not { } batching ? null : new BatchingDescription(
                batching.MaxBatchSize,
                batching.MaxQueueDelay.TotalMilliseconds,
                batching.QueueCapacity,
                batching.Instances),
            Source: manifest?.Source,
            Limitations: manifest?.Limitations ?? [],
            Loading: state.Status == ModelStatus.Loading ? ToProgress(state) : null,
            Circuit: model.Runner?.Status is { } circuit
                ? new ModelCircuit(
                    circuit.State,
                    circuit.RetryAfter is TimeSpan wait ? Math.Ceiling(wait.TotalSeconds) : null,
                    circuit.LastFailure is string failure ? PathRedaction.Redact(failure) : null,
                    model.Resilience!.RunTimeout.TotalMilliseconds)
                : null);
    }

    public static ModelLoadProgress ToProgress(ModelState state) =>
        new(EnumText(state.Stage), state.WarmUpRunsCompleted, state.WarmUpRuns);

    public static QueueStatisticsResponse ToResponse(this QueueStatistics statistics, string model)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach ((int size, long runs) in statistics.Distribution())
        {
            sizes[size.ToString(CultureInfo.InvariantCulture)] = runs;
        }

        return new QueueStatisticsResponse(
            model,
            statistics.Depth,
            statistics.InFlightBatches,
            statistics.Outcomes,
            sizes,
            Math.Round(statistics.MeanBatchSize, 3),
            Math.Round(statistics.MeanQueueWaitMs, 3),
            Math.Round(statistics.MeanRunMs, 3));
    }

    /// <summary>The kebab-case name used in manifests and responses (e.g. <c>shorter-side</c>).</summary>
    public static string EnumText<T>(T value)
        where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    private static ModelInputDescription ToDescription(InputSpec input, TensorInfo? tensor) => new(
        Name: tensor?.Name ?? input.Name ?? "",
        Layout: input.Layout == TensorLayout.Nchw ? "NCHW" : "NHWC",
        Width: input.Width,
        Height: input.Height,
        Color: input.Color == ChannelOrder.Rgb ? "RGB" : "BGR",
        Scale: input.Scale,
        Mean: input.Mean,
        Std: input.Std,
        Resize: EnumText(input.Resize),
        Interpolation: EnumText(input.Interpolation),
        PadValue: input.PadValue,
        PadToMultipleOf: input.PadToMultipleOf,
        ShorterSide: input.ShorterSide,
        MaxLongerSide: input.MaxLongerSide);

    private static TensorDescription[] ToDescriptions(IReadOnlyList<TensorInfo> tensors)
    {
        var list = new TensorDescription[tensors.Count];
        for (int i = 0; i < list.Length; i++)
        {
            TensorInfo t = tensors[i];
            var shape = new string[t.Rank];
            for (int d = 0; d < shape.Length; d++)
            {
                shape[d] = t.DimensionText(d);
            }

            list[i] = new TensorDescription(t.Name, t.ElementType, shape);
        }

        return list;
    }
}
