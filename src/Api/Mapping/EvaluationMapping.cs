using SegServe.Contracts;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;

namespace SegServe.Api.Mapping;

/// <summary>Scores as the public contracts describe them.</summary>
internal static class EvaluationMapping
{
    public static SemanticScoresResponse ToResponse(this SemanticAccumulator sums, ScoringSettings settings)
    {
        SemanticScores scores = SemanticScores.From(sums);
        int n = sums.ClassCount;
        var classes = new List<ClassScoresResponse>(n);
        var matrix = new List<IReadOnlyList<long>>(n);
        foreach (ClassScores c in scores.Classes)
        {
            string? className = settings.ClassNames is not null && c.Id < settings.ClassNames.Count ? settings.ClassNames[c.Id] : null;
            classes.Add(new ClassScoresResponse(c.Id, className, c.GroundTruthPixels, c.PredictedPixels, c.IntersectionPixels, c.Iou, c.Dice, c.Precision, c.Recall, c.F1, c.BoundaryIou));
            matrix.Add(sums.Confusion.AsSpan(c.Id * n, n).ToArray());
        }

        return new SemanticScoresResponse(
            n,
            settings.IgnoreIndex,
            scores.Pixels,
            scores.PixelAccuracy,
            scores.MeanAccuracy,
            scores.MeanIou,
            scores.MeanDice,
            scores.MeanPrecision,
            scores.MeanRecall,
            scores.MeanF1,
            scores.FrequencyWeightedIou,
            scores.MeanBoundaryIou,
            classes,
            matrix,
            sums.PredictedOutside);
    }

    public static InstanceScoresResponse ToResponse(this CocoScores scores, CocoGroundTruth truth)
    {
        var categories = new List<CategoryScoresResponse>(truth.CategoryIds.Count);
        foreach (long id in truth.CategoryIds)
        {
            categories.Add(new CategoryScoresResponse(id, truth.CategoryNames.GetValueOrDefault(id), scores.ApByCategory[id]));
        }

        return new InstanceScoresResponse(
            scores.Ap, scores.Ap50, scores.Ap75, scores.ApSmall, scores.ApMedium, scores.ApLarge,
            scores.Ar1, scores.Ar10, scores.Ar100, scores.ArSmall, scores.ArMedium, scores.ArLarge,
            categories, scores.Images, scores.GroundTruthInstances, scores.Detections);
    }

    /// <summary>COCO AP of ground truth and detections, evaluated together.</summary>
    public static InstanceScoresResponse Score(CocoGroundTruth truth, IReadOnlyList<DetectedInstance> detections) =>
        CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds).ToResponse(truth);
}
