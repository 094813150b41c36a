package vocab_test

import (
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

func corpusVocabularies() []*vocab.Vocabulary {
	return []*vocab.Vocabulary{mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary}
}
